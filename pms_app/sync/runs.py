"""The record of reconciliation runs: started, finished, listed, and the latest per kind."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.db import iso, utcnow
from core.errors import NotFoundError
from core.pagination import PageRequest, paginate

from .models import ABANDONED, COMPLETED, RUNNING, SyncLease, SyncRun


@dataclass
class RunTotals:
    """What one run of one kind found and did."""

    compared: int = 0
    drifted: int = 0
    repaired: int = 0
    unrepairable: int = 0
    in_flight: int = 0
    requests: int = 0
    findings: list[dict] = field(default_factory=list)


def start_run(kind: str, trigger: str, dry_run: bool) -> int:
    return SyncRun.create(kind=kind, trigger=trigger, dry_run=dry_run, status=RUNNING, started_at=utcnow()).id


def finish_run(run_id: int, status: str, totals: RunTotals, error: str | None = None) -> None:
    """Close a run that is still running (one marked abandoned meanwhile stays so)."""
    (
        SyncRun.update(
            status=status,
            finished_at=utcnow(),
            compared=totals.compared,
            drifted=totals.drifted,
            repaired=totals.repaired,
            unrepairable=totals.unrepairable,
            in_flight=totals.in_flight,
            requests=totals.requests,
            error=error,
            findings=totals.findings or None,
        )
        .where((SyncRun.id == run_id) & (SyncRun.status == RUNNING))
        .execute()
    )


def abandon_running() -> int:
    """Close the runs of a process that died holding the lease (called by the new holder)."""
    return (
        SyncRun.update(
            status=ABANDONED, finished_at=utcnow(), error="the process running it stopped before it finished"
        )
        .where(SyncRun.status == RUNNING)
        .execute()
    )


def get_run(run_id: int) -> dict:
    run = SyncRun.get_or_none(SyncRun.id == run_id)
    if run is None:
        raise NotFoundError(f"sync run {run_id} not found")
    return run.to_api()


def list_runs(page: PageRequest, kind: str | None = None) -> tuple[list[dict], str | None]:
    """Runs newest first (keyset pagination on the id)."""
    query = SyncRun.select()
    if kind:
        query = query.where(SyncRun.kind == kind)
    rows, cursor = paginate(query, SyncRun.id, page)
    return [r.to_api() for r in rows], cursor


def latest_completed(kinds: tuple[str, ...]) -> dict[str, dict]:
    """The newest completed run of each kind that has one (index (kind, status, id))."""
    latest = {}
    for kind in kinds:
        run = (
            SyncRun.select()
            .where((SyncRun.kind == kind) & (SyncRun.status == COMPLETED))
            .order_by(SyncRun.id.desc())
            .first()
        )
        if run is not None:
            latest[kind] = run.to_api()
    return latest


def sync_status(lease_name: str) -> dict:
    """The status route's ``sync`` object: the newest run (any kind) and when the next is due."""
    run = SyncRun.select().order_by(SyncRun.id.desc()).first()
    lease = SyncLease.get_or_none(SyncLease.name == lease_name)
    return {"last_run": run.to_api() if run else None, "next_run_at": iso(lease.next_due_at) if lease else None}
