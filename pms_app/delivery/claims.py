"""The outbox as a work queue: claim due events, complete or release a claim, take over dead ones.

A claim is a short transaction: select due ``pending`` events (``FOR UPDATE SKIP LOCKED`` on
MySQL/MariaDB, so concurrent workers never pick the same row; SQLite's IMMEDIATE transactions
serialise claimers instead), mark them ``delivering`` with this worker's id and a lease, commit.
The pair ``(claimed_by, lease_until)`` fences the claim: completing or releasing it only changes
the row if it still carries both, so a worker whose lease was taken over cannot overwrite the
new owner's result.

Per-entity order: an event is not claimable while an earlier event of the same entity is in
flight or due, so one entity's events go out one after another, oldest first. An earlier event
waiting out a retry delay does not hold its successors back (the CRM converges by version).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee as pw

from core.db import is_mysql, utcnow

from ..models import DELIVERED, DELIVERING, FAILED, PENDING, DeliveryAttempt, OutboxEvent, db

RESPONSE_BODY_LIMIT = 2048


@dataclass(frozen=True)
class Claim:
    seq: int
    id: str
    type: str
    payload: dict
    occurred_at: dt.datetime
    attempt_count: int
    worker_id: str
    lease_until: dt.datetime


@dataclass(frozen=True)
class AttemptRecord:
    started_at: dt.datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str | None
    ok: bool


def _kind(model) -> pw.Node:
    """``guest.`` / ``reservation.``: the entity kind of an event type, in SQL."""
    return pw.fn.SUBSTR(model.type, 1, pw.fn.INSTR(model.type, "."))


def _due_query(now: dt.datetime, limit: int) -> pw.ModelSelect:
    earlier = OutboxEvent.alias("earlier")
    blocker = earlier.select(pw.SQL("1")).where(
        (earlier.entity_id == OutboxEvent.entity_id)
        & (earlier.seq < OutboxEvent.seq)
        & (_kind(earlier) == _kind(OutboxEvent))
        & ((earlier.status == DELIVERING)
           | ((earlier.status == PENDING) & (earlier.next_attempt_at <= now))))
    return (OutboxEvent
            .select(OutboxEvent.seq, OutboxEvent.id, OutboxEvent.type, OutboxEvent.payload,
                    OutboxEvent.occurred_at, OutboxEvent.attempt_count)
            .where((OutboxEvent.status == PENDING) & (OutboxEvent.next_attempt_at <= now)
                   & ~pw.fn.EXISTS(blocker))
            .order_by(OutboxEvent.next_attempt_at, OutboxEvent.seq)
            .limit(limit))


def claim_due(worker_id: str, limit: int, lease_seconds: float) -> list[Claim]:
    """Claim up to ``limit`` due events for ``worker_id``; run outside a transaction (it opens its own)."""
    mysql = is_mysql(db)
    # READ COMMITTED: lock only the rows claimed, no gap locks that would stall the API's inserts.
    txn = db.atomic(isolation_level="READ COMMITTED") if mysql else db.atomic()
    with txn:
        now = utcnow()
        query = _due_query(now, limit)
        if mysql:
            query = query.for_update(skip_locked=True)
        rows = list(query)
        if not rows:
            return []
        lease_until = now + dt.timedelta(seconds=lease_seconds)
        (OutboxEvent
         .update(status=DELIVERING, claimed_by=worker_id, lease_until=lease_until)
         .where(OutboxEvent.seq.in_([r.seq for r in rows]) & (OutboxEvent.status == PENDING))
         .execute())
    return [Claim(r.seq, r.id, r.type, r.payload, r.occurred_at, r.attempt_count, worker_id, lease_until)
            for r in rows]


def _fenced(claim: Claim) -> pw.Expression:
    return ((OutboxEvent.seq == claim.seq) & (OutboxEvent.status == DELIVERING)
            & (OutboxEvent.claimed_by == claim.worker_id) & (OutboxEvent.lease_until == claim.lease_until))


def record_attempt(claim: Claim, attempt: AttemptRecord, next_attempt_at: dt.datetime | None) -> bool:
    """Store one attempt and settle the event; ``False`` if the claim was lost (result discarded).

    ``next_attempt_at`` is ``None`` on success, or when a failure exhausted the schedule.
    The attempt row is written either way: it happened.
    """
    now = utcnow()
    fields = {OutboxEvent.attempt_count: OutboxEvent.attempt_count + 1,
              OutboxEvent.claimed_by: None, OutboxEvent.lease_until: None}
    if attempt.ok:
        fields.update({OutboxEvent.status: DELIVERED, OutboxEvent.delivered_at: now,
                       OutboxEvent.last_error: None})
    elif next_attempt_at is None:
        fields.update({OutboxEvent.status: FAILED, OutboxEvent.last_error: attempt.error})
    else:
        fields.update({OutboxEvent.status: PENDING, OutboxEvent.next_attempt_at: next_attempt_at,
                       OutboxEvent.last_error: attempt.error})
    kept = OutboxEvent.update(fields).where(_fenced(claim)).execute() == 1
    error = attempt.error
    if not kept:
        error = ((error + "; ") if error else "") + "result discarded: the claim was taken over or replayed"
    number = DeliveryAttempt.select().where(DeliveryAttempt.event_id == claim.id).count() + 1
    DeliveryAttempt.create(event_id=claim.id, attempt=number, worker_id=claim.worker_id,
                           started_at=attempt.started_at, status_code=attempt.status_code,
                           duration_ms=attempt.duration_ms, error=error,
                           response_body=attempt.response_body)
    return kept


def release(claim: Claim) -> bool:
    """Give a claim back untouched (shutdown, or the breaker held the send back)."""
    return (OutboxEvent.update(status=PENDING, claimed_by=None, lease_until=None)
            .where(_fenced(claim)).execute()) == 1


def release_expired() -> int:
    """Put events whose lease ran out (their worker died or hung) back in the queue."""
    return (OutboxEvent.update(status=PENDING, claimed_by=None, lease_until=None)
            .where((OutboxEvent.status == DELIVERING) & (OutboxEvent.lease_until < utcnow()))
            .execute())


def backlog() -> int:
    """Events not yet delivered nor failed (pending or in flight)."""
    return OutboxEvent.select().where(OutboxEvent.status.in_((PENDING, DELIVERING))).count()
