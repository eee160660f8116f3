"""One reconciliation: for each kind, compare with the CRM, repair, record the run.

``reconcile(store, crm, kinds, ...)`` is what the command line and the schedule both call,
once they hold the lease. Each kind is its own recorded run; a kind that fails (the CRM
unreachable, say) is recorded as failed with the reason and the next kind is still tried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from core.db import DatabaseUnavailable, Store
from core.sync import KINDS

from .compare import Side, StoreSide, compare
from .crm_client import CrmSyncError
from .models import COMPLETED, FAILED
from .notify import drift_found
from .repair import BATCH_SIZE, RepairReport, repair_batch
from .runs import RunTotals, finish_run, get_run, start_run
from .source import PmsSyncSource

log = logging.getLogger("guestsync.sync")

SCHEDULE, COMMAND = "schedule", "command"


class Interrupted(Exception):
    """The run must stop now: the lease was lost, or the process is stopping."""


def reconcile_kind(
    store: Store, crm: Side, kind: str, dry_run: bool, totals: RunTotals, keep_alive: Callable[[], None] = lambda: None
) -> RunTotals:
    """Compare one kind and repair it, filling ``totals`` as it goes (so a failure part-way
    still records what was done)."""
    source = PmsSyncSource(store.database)
    pms_max_id = store.call(source.max_id, kind, transaction=False)
    comparison = compare(kind, StoreSide(store, source), crm, pms_max_id, keep_alive)
    totals.compared = comparison.compared
    report = RepairReport()
    for start in range(0, len(comparison.differences), BATCH_SIZE):
        keep_alive()
        report.add(store.call(repair_batch, kind, comparison.differences[start : start + BATCH_SIZE], dry_run))
        totals.drifted, totals.unrepairable = report.drifted, report.unrepairable
        totals.repaired = 0 if dry_run else report.repairable
        totals.in_flight, totals.findings = report.in_flight, report.findings
    return totals


def reconcile(
    store: Store,
    crm: Side,
    kinds: Iterable[str] = KINDS,
    *,
    dry_run: bool = False,
    trigger: str = COMMAND,
    keep_alive: Callable[[], None] = lambda: None,
    wake: Callable[[], None] | None = None,
) -> list[dict]:
    """Run each kind in turn; returns the recorded runs. ``wake`` is called once repairs were
    queued (the in-process delivery worker sends them at once)."""
    results = []
    for kind in kinds:
        run_id = store.call(start_run, kind, trigger, dry_run)
        totals = RunTotals()
        requests_before = getattr(crm, "requests", 0)
        try:
            reconcile_kind(store, crm, kind, dry_run, totals, keep_alive)
        except Exception as exc:  # noqa: BLE001 - recorded on the run; the next kind still runs
            totals.requests = getattr(crm, "requests", 0) - requests_before
            if isinstance(exc, (CrmSyncError, Interrupted, DatabaseUnavailable)):
                log.warning("reconciliation of %s failed: %s", kind, exc)
            else:
                log.exception("reconciliation of %s failed unexpectedly", kind)
            store.call(finish_run, run_id, FAILED, totals, describe(exc))
            results.append(store.call(get_run, run_id))
            if isinstance(exc, Interrupted):
                break
            continue
        totals.requests = getattr(crm, "requests", 0) - requests_before
        store.call(finish_run, run_id, COMPLETED, totals)
        run = store.call(get_run, run_id)
        results.append(run)
        log.info(
            "reconciled %s: %s compared, %s drifted, %s repaired, %s unrepairable, %s in flight",
            kind,
            run["compared"],
            run["drifted"],
            run["repaired"],
            run["unrepairable"],
            run["in_flight"],
        )
        if run["drifted"]:
            drift_found(store, run)
        if run["repaired"] and wake is not None:
            wake()
    return results


def describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
