"""The outbox as a work queue: claim due events, complete or release a claim, take over dead ones.

A claim is a short transaction: select due ``pending`` events (``FOR UPDATE SKIP LOCKED`` on
MySQL/MariaDB, so concurrent workers never pick the same row; SQLite's IMMEDIATE transactions
serialise claimers instead), mark them ``delivering`` with this worker's id and a lease, commit.
The pair ``(claimed_by, lease_until)`` fences the claim: completing or releasing it only changes
the row if it still carries both, so a worker whose lease was taken over cannot overwrite the
new owner's result.

Settling what the senders finished and claiming new work share one transaction per dispatcher
turn, so a busy worker commits once per batch, not once per event. The statements of that hot
path are plain SQL (identical on SQLite and MySQL/MariaDB but for the parameter marker):
building them through peewee's query builder cost more CPU than the database spent running
them, and CPU is what limits a worker's throughput.

Attribution: a replay marks the event (``next_trigger`` "replay", ``replayed_by``); the claim reads
the mark with the rest of the row and the attempt that follows copies it onto its attempt row,
while settling that attempt clears it, in the statements the hot path runs anyway. A send the
breaker held back is no attempt and leaves the mark for the real one. ``attempt_count`` counts
every attempt, a discarded one included; ``attempts_since_replay`` picks the retry step.

Per-entity order: an event is not claimable while an earlier event of the same entity is in
flight or due, so one entity's events go out one after another, oldest first. An earlier event
waiting out a retry delay does not hold its successors back (the CRM converges by version).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


from core.db import is_mysql, read_committed, utcnow

from ..models import DELIVERING, FAILED, PENDING, SCHEDULED, OutboxEvent, db

RESPONSE_BODY_LIMIT = 2048


@dataclass(frozen=True)
class Claim:
    seq: int
    id: str
    type: str
    payload: dict
    occurred_at: dt.datetime
    worker_id: str
    lease_until: dt.datetime
    attempts_since_replay: int   # picks the retry step: the schedule restarts at each replay
    trigger: str                 # recorded on the attempt made of this claim
    replayed_by: str | None


@dataclass(frozen=True)
class AttemptRecord:
    started_at: dt.datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str | None
    ok: bool


# Due events, oldest first, unless an earlier event of the same entity (same kind: the type up
# to its dot, same id) is in flight or due itself. The ``status IN`` lets the check read only
# the entity's undelivered entries of index (entity_id, status, seq) (migration 003).
CLAIM_SQL = """
SELECT e.seq, e.id, e.type, e.payload, e.occurred_at, e.attempts_since_replay, e.next_trigger,
       e.replayed_by FROM outbox_event e
WHERE e.status = 'pending' AND e.next_attempt_at <= {p}
  AND NOT EXISTS (
    SELECT 1 FROM outbox_event earlier
    WHERE earlier.entity_id = e.entity_id AND earlier.seq < e.seq
      AND SUBSTR(earlier.type, 1, INSTR(earlier.type, '.')) = SUBSTR(e.type, 1, INSTR(e.type, '.'))
      AND earlier.status IN ('delivering', 'pending')
      AND (earlier.status = 'delivering' OR earlier.next_attempt_at <= {p}))
ORDER BY e.next_attempt_at, e.seq
LIMIT {p}"""


def _params(n: int) -> str:
    return ", ".join([db.param] * n)


def _when(value: dt.datetime | None):
    return OutboxEvent.next_attempt_at.db_value(value)


def _claim(worker_id: str, limit: int, lease_seconds: float, mysql: bool) -> list[Claim]:
    now = utcnow()
    sql = CLAIM_SQL.format(p=db.param)
    if mysql:
        sql += " FOR UPDATE SKIP LOCKED"   # concurrent claimers pass over each other's rows
    rows = db.execute_sql(sql, (_when(now), _when(now), limit)).fetchall()
    if not rows:
        return []
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    db.execute_sql(f"UPDATE outbox_event SET status = 'delivering', claimed_by = {db.param}, "
                   f"lease_until = {db.param} WHERE status = 'pending' AND seq IN ({_params(len(rows))})",
                   (worker_id, _when(lease_until), *[r[0] for r in rows]))
    payload, occurred = OutboxEvent.payload.python_value, OutboxEvent.occurred_at.python_value
    return [Claim(seq, event_id, event_type, payload(body), occurred(occurred_at), worker_id, lease_until,
                  since_replay, trigger, replayed_by)
            for seq, event_id, event_type, body, occurred_at, since_replay, trigger, replayed_by in rows]


@dataclass(frozen=True)
class Outcome:
    """What became of one claim: an attempt (with when to try next, if it failed and may be
    retried), or ``attempt=None``: given back unsent."""

    claim: Claim
    attempt: AttemptRecord | None
    next_attempt_at: dt.datetime | None = None


def _settle(outcomes: list[Outcome], mysql: bool) -> list[bool]:
    """Record outcomes; for each, whether the claim still held (else its result is discarded)."""
    if not outcomes:
        return []
    now = utcnow()
    sql = (f"SELECT seq, claimed_by, lease_until FROM outbox_event WHERE status = 'delivering' "
           f"AND seq IN ({_params(len(outcomes))})" + (" FOR UPDATE" if mysql else ""))
    lease = OutboxEvent.lease_until.python_value
    holders = {seq: (owner, lease(until))
               for seq, owner, until in db.execute_sql(sql, [o.claim.seq for o in outcomes]).fetchall()}
    kept = [holders.get(o.claim.seq) == (o.claim.worker_id, o.claim.lease_until) for o in outcomes]
    settled = {OutboxEvent.claimed_by: None, OutboxEvent.lease_until: None}
    attempted = {**settled, OutboxEvent.attempt_count: OutboxEvent.attempt_count + 1,
                 OutboxEvent.attempts_since_replay: OutboxEvent.attempts_since_replay + 1,
                 OutboxEvent.next_trigger: SCHEDULED, OutboxEvent.replayed_by: None}
    delivered, released, discarded = [], [], []
    for outcome, holds in zip(outcomes, kept):
        if not holds:
            if outcome.attempt is not None:
                discarded.append(outcome.claim.seq)
            continue
        seq, attempt = outcome.claim.seq, outcome.attempt
        if attempt is None:
            released.append(seq)
        elif attempt.ok:
            delivered.append(seq)
        elif outcome.next_attempt_at is None:
            OutboxEvent.update({**attempted, OutboxEvent.status: FAILED, OutboxEvent.last_error: attempt.error}) \
                .where(OutboxEvent.seq == seq).execute()
        else:
            OutboxEvent.update({**attempted, OutboxEvent.status: PENDING, OutboxEvent.last_error: attempt.error,
                                OutboxEvent.next_attempt_at: outcome.next_attempt_at}) \
                .where(OutboxEvent.seq == seq).execute()
    if delivered:
        db.execute_sql(f"UPDATE outbox_event SET status = 'delivered', delivered_at = {db.param}, "
                       f"last_error = NULL, attempt_count = attempt_count + 1, "
                       f"attempts_since_replay = attempts_since_replay + 1, next_trigger = '{SCHEDULED}', "
                       f"replayed_by = NULL, claimed_by = NULL, lease_until = NULL "
                       f"WHERE seq IN ({_params(len(delivered))})",
                       (_when(now), *delivered))
    if released:
        db.execute_sql(f"UPDATE outbox_event SET status = 'pending', claimed_by = NULL, lease_until = NULL "
                       f"WHERE seq IN ({_params(len(released))})", released)
    if discarded:
        # The attempt happened and is listed, so it counts; the event's claim, retry step and
        # replay mark belong to whoever holds it now and are left alone.
        db.execute_sql(f"UPDATE outbox_event SET attempt_count = attempt_count + 1 "
                       f"WHERE seq IN ({_params(len(discarded))})", discarded)
    _insert_attempts([(o, holds) for o, holds in zip(outcomes, kept) if o.attempt is not None])
    return kept


ATTEMPT_COLUMNS = ("event_id", "attempt", "worker_id", "started_at", "status_code", "duration_ms", "error",
                   "response_body", "trigger_kind", "replayed_by")


def _insert_attempts(made: list[tuple[Outcome, bool]]) -> None:
    """Attempt rows, numbered after the event's earlier attempts (replays keep the history)."""
    if not made:
        return
    ids = list({o.claim.id for o, _ in made})
    numbers = dict(db.execute_sql(
        f"SELECT event_id, COUNT(*) FROM delivery_attempt WHERE event_id IN ({_params(len(ids))}) "
        f"GROUP BY event_id", ids).fetchall())
    values: list = []
    for outcome, holds in made:
        attempt = outcome.attempt
        number = numbers.get(outcome.claim.id, 0) + 1
        numbers[outcome.claim.id] = number
        error = attempt.error
        if not holds:
            error = ((error + "; ") if error else "") + "result discarded: the claim was taken over or replayed"
        values += [outcome.claim.id, number, outcome.claim.worker_id, _when(attempt.started_at),
                   attempt.status_code, attempt.duration_ms, error, attempt.response_body,
                   outcome.claim.trigger, outcome.claim.replayed_by]
    row = f"({_params(len(ATTEMPT_COLUMNS))})"
    db.execute_sql(f"INSERT INTO delivery_attempt ({', '.join(ATTEMPT_COLUMNS)}) VALUES "
                   + ", ".join([row] * len(made)), values)


def cycle(worker_id: str, outcomes: list[Outcome], limit: int,
          lease_seconds: float) -> tuple[list[bool], list[Claim]]:
    """One short transaction: settle finished claims, then claim up to ``limit`` due events.

    Settling first lets an entity's next event be claimed in the same transaction. Run it
    outside a transaction (``store.call(..., transaction=False)``): it opens its own.
    """
    mysql = is_mysql(db)
    # READ COMMITTED: lock only the rows touched, no gap locks that would stall the API's inserts.
    with read_committed(db):
        kept = _settle(outcomes, mysql)
        claimed = _claim(worker_id, limit, lease_seconds, mysql) if limit > 0 else []
    return kept, claimed


def claim_due(worker_id: str, limit: int, lease_seconds: float) -> list[Claim]:
    """Claim up to ``limit`` due events for ``worker_id`` (opens its own transaction)."""
    return cycle(worker_id, [], limit, lease_seconds)[1]


def record_attempt(claim: Claim, attempt: AttemptRecord, next_attempt_at: dt.datetime | None) -> bool:
    """Store one attempt and settle its event; ``False`` if the claim was lost (result discarded).

    ``next_attempt_at`` is ``None`` on success, or when a failure exhausted the schedule.
    """
    return _settle([Outcome(claim, attempt, next_attempt_at)], is_mysql(db))[0]


def release(claim: Claim) -> bool:
    """Give a claim back unsent (shutdown, or the breaker opened before the send)."""
    return _settle([Outcome(claim, None)], is_mysql(db))[0]


def release_expired() -> int:
    """Put events whose lease ran out (their worker died or hung) back in the queue.

    Opens its own READ COMMITTED transaction on MySQL, like ``cycle``: a range update under
    REPEATABLE READ would gap-lock the in-flight range that every claim writes into.
    """
    with read_committed(db):
        return (OutboxEvent.update(status=PENDING, claimed_by=None, lease_until=None)
                .where((OutboxEvent.status == DELIVERING) & (OutboxEvent.lease_until < utcnow()))
                .execute())


def backlog() -> int:
    """Events not yet delivered nor failed (pending or in flight)."""
    return OutboxEvent.select().where(OutboxEvent.status.in_((PENDING, DELIVERING))).count()
