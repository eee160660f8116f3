"""Recording verified webhooks in the audit log and applying them, one transaction per batch.

``receive_batch(batch)`` is the unit of work of the group committer: it finds the webhooks
already recorded (one query), locks every guest and reservation the rest touch, applies them
in order to a ``WorkingSet`` and flushes it, so the audit rows and the profile changes of the
whole batch commit together. If anything in that fast path fails, nothing of it was
committed, and the batch falls back to one transaction per webhook, so one bad webhook gets
its own failure (a 500, retried by the sender) and the others their own answers.

On MySQL/MariaDB the transaction runs at READ COMMITTED: profile stats are recomputed under
the guest's row lock from plain reads of the mirror, and those reads must see every change
committed before the lock was granted (REPEATABLE READ would show an older snapshot).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import peewee as pw

from core.contract import ACCEPTED, DUPLICATE, MAX_ID
from core.db import RETRYABLE_CODES, is_duplicate_key, mysql_error_code, read_committed, utcnow

from ..models import IGNORED, PROCESSED, STALE, db
from ..validation import Incoming
from .convergence import APPLIERS, entity_ids
from .statements import recorded_webhook_ids
from .working_set import WorkingSet

log = logging.getLogger("guestsync.crm.receiver")

# The answer's status for each audit-log status.
ANSWERS = {PROCESSED: ACCEPTED, STALE: STALE, IGNORED: IGNORED}
SINGLE_ATTEMPTS = 4


@dataclass(frozen=True)
class Outcome:
    status: str  # accepted | stale | ignored | duplicate
    id: str  # the webhook-id


def _entity_keys(payload: dict) -> tuple[int | None, int | None]:
    def as_int(value, limit):
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < limit else None

    return as_int(payload.get("id"), MAX_ID + 1), as_int(payload.get("version"), 2**31)


def apply_batch(batch: list[Incoming], now: dt.datetime | None = None) -> list[Outcome]:
    """Apply and record every webhook of ``batch`` in the caller's transaction."""
    now = now or utcnow()
    done = recorded_webhook_ids(sorted({i.webhook_id for i in batch}))
    rows = WorkingSet(now)
    reservation_ids, guest_ids = [], []
    for incoming in batch:
        if incoming.known and incoming.webhook_id not in done:
            reservations, guests = entity_ids(incoming.type, incoming.values)
            reservation_ids += reservations
            guest_ids += guests
    rows.lock_mirrors(reservation_ids)  # reservations before guests, each in key order
    rows.lock_guests(guest_ids)
    outcomes = []
    for incoming in batch:
        if incoming.webhook_id in done:  # recorded earlier, or a second copy inside this batch
            outcomes.append(Outcome(DUPLICATE, incoming.webhook_id))
            continue
        done.add(incoming.webhook_id)
        outcomes.append(Outcome(ANSWERS[_apply(rows, incoming)], incoming.webhook_id))
    rows.flush()
    return outcomes


def _apply(rows: WorkingSet, incoming: Incoming) -> str:
    guest_id, payload = None, incoming.payload
    if incoming.known:
        applied, guest_id, payload = APPLIERS[incoming.type](rows, incoming.values, incoming.payload)
        status = PROCESSED if applied else STALE
    else:
        status = IGNORED
    entity_id, entity_version = _entity_keys(incoming.payload)
    rows.record(
        {
            "webhook_id": incoming.webhook_id,
            "type": incoming.type,
            "status": status,
            "entity_id": entity_id,
            "entity_version": entity_version,
            "guest_id": guest_id,
            "occurred_at": incoming.occurred_at,
            "received_at": rows.now,
            "payload": payload,
            "trace_id": incoming.trace_id,
        }
    )
    return status


def in_transaction(fn: Callable, *args):
    """Run ``fn(*args)`` in one transaction (READ COMMITTED on MySQL)."""
    with read_committed(db):
        return fn(*args)


def receive_one(incoming: Incoming) -> Outcome:
    """One webhook in its own transaction, retried when it lost a race for a row.

    A duplicate key means another transaction recorded the same webhook (answer duplicate) or
    created the same guest or reservation row first (run again: the row is now visible).
    Deadlocks and lock-wait timeouts are run again too. Other errors propagate.
    """
    for attempt in range(1, SINGLE_ATTEMPTS + 1):
        try:
            return in_transaction(apply_batch, [incoming])[0]
        except pw.IntegrityError as exc:
            if not is_duplicate_key(exc) or attempt == SINGLE_ATTEMPTS:
                raise
            if recorded_webhook_ids([incoming.webhook_id]):
                return Outcome(DUPLICATE, incoming.webhook_id)
        except pw.OperationalError as exc:
            if mysql_error_code(exc) not in RETRYABLE_CODES or attempt == SINGLE_ATTEMPTS:
                raise
        time.sleep(0.002 * attempt)
    raise AssertionError("unreachable")


def receive_batch(batch: list[Incoming]) -> list[Outcome | BaseException]:
    """One transaction for the whole batch, or one per webhook if that fails (see module doc).

    Returns one ``Outcome`` or exception per webhook, in order. Deadlocks and lost
    connections in the fast path propagate so that ``Store`` retries or fails the batch whole.
    (SQLite's IMMEDIATE transactions serialise writers, so only MySQL ever needs the retries.)
    """
    try:
        return in_transaction(apply_batch, batch)
    except (pw.OperationalError, pw.InterfaceError):
        raise  # the database, not a webhook: Store retries the batch or answers 503
    except Exception as exc:  # noqa: BLE001 - nothing committed; retried one by one below
        fast_path_error = exc
    if len(batch) > 1:
        log.info("batch of %d failed (%s); applying one by one", len(batch), fast_path_error)
    results: list[Outcome | BaseException] = []
    for incoming in batch:
        try:
            results.append(receive_one(incoming))
        except Exception as exc:  # noqa: BLE001 - this webhook alone answers 500
            if not isinstance(exc, pw.OperationalError):
                log.exception("applying webhook %s failed", incoming.webhook_id)
            results.append(exc)
    return results
