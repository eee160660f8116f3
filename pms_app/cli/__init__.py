"""The ops command line: ``python -m pms_app status``, ``deliveries list|replay``, ``endpoints
list|add|disable|enable|rotate-secret`` and ``reconcile`` (docs/cli.md).

Each command works on the PMS database directly (no server needed) through the services the
API's handlers use, prints a table for people or, with ``--json``, the API's JSON shape for
scripts, and exits non-zero on failure (``runtime`` says how). Actions are recorded in the audit
log under ``--operator``, by default ``cli.<OS user>``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from ..sync import cli as reconcile_cli
from . import deliveries, endpoints, status
from .runtime import Context, command, execute

COMMANDS = ("status", "deliveries", "endpoints", "reconcile")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pms_app", description="Guestsync PMS ops commands.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the API's JSON shape instead of a table")
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument(
        "--operator",
        metavar="NAME",
        help="who acts, for the audit log: letters, digits and . _ @ - (default: cli.<OS user>)",
    )
    status.register(commands, common)
    deliveries.register(commands, common, acting)
    endpoints.register(commands, common, acting)
    reconcile = commands.add_parser(
        "reconcile", help="compare with the CRM and repair drift", description=reconcile_cli.DESCRIPTION
    )
    reconcile_cli.add_arguments(reconcile)
    command(reconcile, _reconcile)
    return parser


def _reconcile(ctx: Context) -> int:
    return reconcile_cli.run_command(ctx.settings, ctx.store, ctx.args, ctx.out)


def main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Parse ``argv`` (bad arguments exit with status 2) and run the command."""
    args = build_parser().parse_args(argv)
    try:
        return execute(args, out or sys.stdout, err or sys.stderr)
    except BrokenPipeError:
        # The reader went away (``... | head``): say nothing more, and let the interpreter's
        # final flush of stdout go nowhere instead of failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
