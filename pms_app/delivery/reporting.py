"""What a worker tells the database about itself: its heartbeat, breaker state and last outcomes.

Every worker process owns one ``delivery_worker`` row and one ``breaker_state`` row per
endpoint (keyed by the endpoint's id); both are refreshed on each heartbeat and the breaker row
on every transition, so the status route (in any process) sees every live worker's breaker.
Each transition also adds a ``breaker_transition`` row. The heartbeat also moves each
endpoint's ``last_success_at`` / ``last_failure_at`` forward (never back: another worker may
have seen a later one).

The writes run at READ COMMITTED (callers run them with ``transaction=False``): at MySQL's
default REPEATABLE READ, the heartbeat and a breaker transition of the same worker, each
updating a breaker row that does not exist yet, take gap locks and then deadlock on their
inserts; without gap locks one simply finds the other's row (duplicate key) and moves on.
"""

from __future__ import annotations

import datetime as dt

from core.db import read_committed, utcnow

from ..endpoints import health
from ..endpoints.models import Endpoint
from ..models import BreakerState
from .breaker import BreakerSnapshot
from .models import BreakerTransition, WorkerRecord


def register_worker(worker_id: str) -> None:
    now = utcnow()
    WorkerRecord.create(worker_id=worker_id, started_at=now, heartbeat_at=now)


def save_breaker(worker_id: str, endpoint: str, snap: BreakerSnapshot) -> None:
    """Upsert this worker's breaker row (portable: update, else insert-or-ignore, then update).

    The first transition and the first heartbeat of a worker may both find no row. No savepoint
    here: on MySQL/MariaDB their two inserts can deadlock, which rolls back the whole
    transaction, savepoints included; the caller's ``Store.call`` then runs it again, whereas
    rolling back to a vanished savepoint fails (error 1305) and the write would be lost.
    """
    now = utcnow()
    values = {"state": snap.state, "failure_count": snap.failure_count, "opened_at": snap.opened_at, "updated_at": now}
    mine = (BreakerState.worker_id == worker_id) & (BreakerState.endpoint == endpoint)
    if BreakerState.update(**values).where(mine).execute():
        return
    inserted = (
        BreakerState.insert(worker_id=worker_id, endpoint=endpoint, **values)
        .on_conflict_ignore()
        .as_rowcount()
        .execute()
    )
    if not inserted:  # the other writer inserted it first; write ours over it, as any update would
        BreakerState.update(**values).where(mine).execute()


def record_transition(worker_id: str, endpoint: str, snap: BreakerSnapshot, previous: str) -> None:
    """A state change: the worker's breaker row and one history row, in one transaction."""
    with read_committed(BreakerState._meta.database):
        _record_transition(worker_id, endpoint, snap, previous)


def _record_transition(worker_id: str, endpoint: str, snap: BreakerSnapshot, previous: str) -> None:
    save_breaker(worker_id, endpoint, snap)
    BreakerTransition.create(
        worker_id=worker_id,
        endpoint=endpoint,
        from_state=previous,
        to_state=snap.state,
        failure_count=snap.failure_count,
        at=utcnow(),
    )


def heartbeat(
    worker_id: str,
    breakers: dict[str, BreakerSnapshot],
    outcomes: dict[int, tuple[dt.datetime | None, dt.datetime | None]],
) -> None:
    """This worker is alive: its breakers (by endpoint key) and, per endpoint id, the times of
    its last success and failure seen since the previous heartbeat."""
    with read_committed(BreakerState._meta.database):
        _heartbeat(worker_id, breakers, outcomes)


def _heartbeat(
    worker_id: str,
    breakers: dict[str, BreakerSnapshot],
    outcomes: dict[int, tuple[dt.datetime | None, dt.datetime | None]],
) -> None:
    values = {"heartbeat_at": utcnow()}
    successes = [s for s, _ in outcomes.values() if s is not None]
    failures = [f for _, f in outcomes.values() if f is not None]
    if successes:
        values["last_success_at"] = max(successes)
    if failures:
        values["last_failure_at"] = max(failures)
    WorkerRecord.update(**values).where(WorkerRecord.worker_id == worker_id).execute()
    for key, snap in breakers.items():
        save_breaker(worker_id, key, snap)
    for endpoint_id, (success, failure) in outcomes.items():
        for column, when in ((Endpoint.last_success_at, success), (Endpoint.last_failure_at, failure)):
            if when is not None:
                (
                    Endpoint.update({column: when})
                    .where((Endpoint.id == endpoint_id) & (column.is_null() | (column < when)))
                    .execute()
                )
        health.note_outcomes(endpoint_id, success, failure)


def unregister_worker(worker_id: str) -> None:
    """A clean stop: the worker's breaker leaves the status at once; its history row stays."""
    BreakerState.delete().where(BreakerState.worker_id == worker_id).execute()
    WorkerRecord.update(stopped_at=utcnow()).where(WorkerRecord.worker_id == worker_id).execute()
