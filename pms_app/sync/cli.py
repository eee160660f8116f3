"""``python -m pms_app reconcile [--kind guest|reservation] [--dry-run] [--json]``.

Works on the PMS database directly (no PMS server needed) and reads the CRM over HTTP. It takes
the same lease as the scheduled runs, so it never overlaps one, and leaves the schedule as it
was. Prints a table for people or the recorded runs as JSON; exits 0 when every run completed
(drift found and repaired included), 1 when a run failed or another reconciliation holds the
lease.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from typing import TextIO

from core.db import Store, iso, utcnow
from core.sync import KINDS

from ..cli.output import table
from ..config import PmsSettings
from . import lease
from .crm_client import CrmSyncClient
from .models import COMPLETED
from .schedule import LeaseKeeper
from .service import COMMAND, reconcile

COLUMNS = ("kind", "status", "compared", "drifted", "repaired", "unrepairable", "in_flight", "requests")


DESCRIPTION = "Compare the CRM's guests and reservations with the PMS's and repair drift."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=KINDS, help="only this kind (default: both)")
    parser.add_argument(
        "--dry-run", action="store_true", help="report what differs and what would be repaired; queue nothing"
    )
    parser.add_argument("--json", action="store_true", help="print the recorded runs as JSON")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pms_app reconcile", description=DESCRIPTION)
    add_arguments(parser)
    return parser.parse_args(argv)


def run_command(
    settings: PmsSettings, store: Store, args: argparse.Namespace, out: TextIO = sys.stdout, crm=None
) -> int:
    """Run with parsed ``args``; ``crm`` replaces the HTTP client (tests)."""
    kinds = (args.kind,) if args.kind else KINDS
    holder = f"cli-{socket.gethostname().split('.')[0][:32]}-{os.getpid()}"
    if not store.call(lease.acquire, holder, utcnow()):
        who, until = store.call(lease.holder_of)
        print(f"another reconciliation is running ({who}, lease until {iso(until)}); try again later", file=sys.stderr)
        return 1
    crm = crm or CrmSyncClient(settings.crm_api_base, settings.crm_api_token)
    try:
        runs = reconcile(
            store,
            crm,
            kinds,
            dry_run=args.dry_run,
            trigger=COMMAND,
            keep_alive=LeaseKeeper(store, holder, lease.LEASE_SECONDS),
        )
    finally:
        getattr(crm, "close", lambda: None)()
        store.call(lease.release, holder)
    if args.json:
        print(json.dumps({"data": runs}, indent=2), file=out)
    else:
        print_table(runs, args.dry_run, out)
    return 0 if all(r["status"] == COMPLETED for r in runs) else 1


def print_table(runs: list[dict], dry_run: bool, out: TextIO) -> None:
    table(COLUMNS, ([run[c] for c in COLUMNS] for run in runs), out)
    for run in runs:
        if run["error"]:
            print(f"{run['kind']}: failed: {run['error']}", file=out)
        for finding in run["unrepairable_entities"]:
            print(
                f"{run['kind']} {finding['id']}: {finding['reason']} "
                f"(PMS {_state(finding['pms'])}, CRM {_state(finding['crm'])})",
                file=out,
            )
        if dry_run and run["drifted"] > run["unrepairable"]:
            print(f"{run['kind']}: dry run, {run['drifted'] - run['unrepairable']} would be repaired", file=out)


def _state(state: dict | None) -> str:
    if state is None:
        return "none"
    return f"v{state['version']}{' deleted' if state['deleted'] else ''}"
