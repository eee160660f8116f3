"""Deliveries as a work queue: claim due ones, complete or release a claim, take over dead ones.

A delivery is one event on its way to one endpoint. A claim is a short transaction: select due
``pending`` deliveries (``FOR UPDATE SKIP LOCKED`` on MySQL/MariaDB, so concurrent workers never
pick the same row; SQLite's IMMEDIATE transactions serialise claimers instead), mark them
``delivering`` with this worker's id and a lease, read their events' payloads (one query per
batch), commit.
The pair ``(claimed_by, lease_until)`` fences the claim: completing or releasing it only changes
the row if it still carries both, so a worker whose lease was taken over cannot overwrite the
new owner's result.

Settling what the senders finished and claiming new work share one transaction per dispatcher
turn, so a busy worker commits once per batch, not once per delivery. The statements of that hot
path are plain SQL (identical on SQLite and MySQL/MariaDB but for the parameter marker):
building them through peewee's query builder cost more CPU than the database spent running
them, and CPU is what limits a worker's throughput.

Attribution: a replay marks the delivery (``next_trigger`` "replay", ``replayed_by``); the claim reads
the mark with the rest of the row and the attempt that follows copies it onto its attempt row,
while settling that attempt clears it, in the statements the hot path runs anyway. A send the
breaker held back is no attempt and leaves the mark for the real one. ``attempt_count`` counts
every attempt, a discarded one included; ``attempts_since_replay`` picks the retry step.

Per-entity order, per endpoint: a delivery is not claimable while an earlier event of the same
entity to the same endpoint is pending (even waiting out a retry delay), in flight or held, so
one entity's events reach each endpoint in version order. A ``failed`` one does not block the
later ones, and one endpoint's backlog never holds another endpoint back.

Per-endpoint policy: the dispatcher names the endpoints to leave alone (``blocked``: disabled,
breaker open, or as many attempts in flight as their ``max_in_flight``), those due one probe
(``probes``: at most one delivery each), how many more each may have in flight
(``capacity``), and the rate-limited ones (``rates``). A rate-limited endpoint is claimed apart,
through its token bucket (``endpoint_rate``), read ``FOR UPDATE`` and refilled in the claim's
own transaction: every worker and process draws on the same budget, so the limit holds across
all of them. The bucket holds at most half a second of tokens, so no 10-second window sees more
than 5% over the rate.

An endpoint that answers 410 Gone is disabled in the transaction that records that answer;
the delivery, and every pending one of that endpoint, becomes ``held``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from core.contract import GONE, UNFINISHED_STATUSES
from core.db import is_mysql, read_committed, utcnow

from ..endpoints import health
from ..endpoints.models import EndpointRate
from ..models import DELIVERED, DELIVERING, FAILED, HELD, PENDING, SCHEDULED, Delivery, OutboxEvent, db
from ..notifications import raising

RESPONSE_BODY_LIMIT = 2048
PING = "endpoint.ping"  # a test ping that fails is its own answer, not an incident
BURST_SECONDS = 0.5


@dataclass(frozen=True)
class Claim:
    seq: int  # the delivery's id
    id: str  # the event's UUID: its webhook-id
    endpoint_id: int
    type: str
    payload: dict
    occurred_at: dt.datetime
    worker_id: str
    lease_until: dt.datetime
    attempts_since_replay: int  # picks the retry step: the schedule restarts at each replay
    trigger: str  # recorded on the attempt made of this claim
    replayed_by: str | None
    traceparent: str | None = None  # of the request that made the change: attempts continue its trace


@dataclass(frozen=True)
class AttemptRecord:
    started_at: dt.datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str | None
    ok: bool
    target_url: str | None = None  # where it went, password masked
    signatures: int | None = None  # how many signatures it carried


# Due deliveries, oldest first, unless an earlier event of the same entity (same kind: the type
# up to its dot, same id) to the same endpoint is pending, in flight or held. The ``status IN``
# lets the check read only the entity's undelivered entries of index
# (endpoint_id, entity_id, status, event_seq).
ENTITY_ORDER_INDEX = "delivery_endpoint_id_entity_id_status_event_seq"
_UNFINISHED = ", ".join(f"'{status}'" for status in UNFINISHED_STATUSES)
CLAIM_SQL = f"""
SELECT d.id, d.event_id, d.endpoint_id, d.type, d.event_seq, d.attempts_since_replay, d.next_trigger,
       d.replayed_by FROM delivery d
WHERE d.status = '{PENDING}' AND d.next_attempt_at <= {{p}}{{endpoints}}
  AND NOT EXISTS (
    SELECT 1 FROM delivery earlier{{entity_index}}
    WHERE earlier.endpoint_id = d.endpoint_id AND earlier.entity_id = d.entity_id
      AND earlier.status IN ({_UNFINISHED}) AND earlier.event_seq < d.event_seq
      AND SUBSTR(earlier.type, 1, INSTR(earlier.type, '.')) = SUBSTR(d.type, 1, INSTR(d.type, '.')))
ORDER BY d.next_attempt_at, d.id
LIMIT {{p}}"""


def _params(n: int) -> str:
    return ", ".join([db.param] * n)


def _when(value: dt.datetime | None):
    return Delivery.next_attempt_at.db_value(value)


def _select_due(
    now: dt.datetime, limit: int, mysql: bool, only: int | None = None, blocked: Sequence[int] = ()
) -> list[tuple]:
    endpoints, args = "", [_when(now)]
    if only is not None:
        endpoints, args = f" AND d.endpoint_id = {db.param}", [*args, only]
    elif blocked:
        endpoints, args = f" AND d.endpoint_id NOT IN ({_params(len(blocked))})", [*args, *blocked]
    # MariaDB picks the (endpoint_id, guest_id, id) index for the check, which narrows nothing
    # while one endpoint has every delivery, and reads thousands of rows per candidate (a
    # 20-60 ms claim during a backlog); the entity's own index is the one that answers it.
    entity_index = f" FORCE INDEX ({ENTITY_ORDER_INDEX})" if mysql else ""
    sql = CLAIM_SQL.format(p=db.param, endpoints=endpoints, entity_index=entity_index)
    if mysql:
        sql += " FOR UPDATE SKIP LOCKED"  # concurrent claimers pass over each other's rows
    return db.execute_sql(sql, (*args, limit)).fetchall()


def _within(rows: list[tuple], room: dict[int, int]) -> list[tuple]:
    """The rows each endpoint has room for, taking it from ``room`` (the others stay pending,
    unlocked at commit)."""
    kept = []
    for row in rows:
        left = room.get(row[2])
        if left is None or left > 0:
            kept.append(row)
            if left is not None:
                room[row[2]] = left - 1
    return kept


def _claim_within(now: dt.datetime, limit: int, mysql: bool, apart: list[int], room: dict[int, int]) -> list[tuple]:
    """Up to ``limit`` due rows, oldest first, within each endpoint's ``room``.

    When the oldest rows belong to an endpoint that is short of room, the rows past its room are
    left and the query is repeated without that endpoint, so the next endpoint's due rows fill the
    rest; otherwise an endpoint with a long backlog would hold every other one to the leftovers
    of its room (with three endpoints, the unlimited ones ran at 0.35-0.6 of a single one's rate)."""
    rows: list[tuple] = []
    while len(rows) < limit:
        wanted = limit - len(rows)
        found = _select_due(now, wanted, mysql, blocked=apart)
        kept = _within(found, room)
        rows += kept
        full = {row[2] for row in found if room.get(row[2], 1) <= 0}
        if len(found) < wanted or len(kept) == len(found) or not full:
            break
        apart = [*apart, *full]
    return rows


def _take_tokens(endpoint_id: int, rate: float, wanted: int, now: dt.datetime, mysql: bool) -> tuple[int, float]:
    """How many of ``wanted`` tokens the endpoint's bucket (locked until commit) has, and its
    refilled level."""
    burst = max(1.0, rate * BURST_SECONDS)
    sql = f"SELECT tokens, updated_at FROM endpoint_rate WHERE endpoint_id = {db.param}"
    sql += " FOR UPDATE" if mysql else ""
    row = db.execute_sql(sql, (endpoint_id,)).fetchone()
    if row is None:
        # The first claim ever for this endpoint. Only then the insert: an INSERT IGNORE that
        # meets the row takes a shared lock on it, and two claimers each holding one while
        # asking for FOR UPDATE would deadlock.
        EndpointRate.insert(endpoint_id=endpoint_id, tokens=burst, updated_at=now).on_conflict_ignore().execute()
        row = db.execute_sql(sql, (endpoint_id,)).fetchone()
    tokens, updated = row
    updated = EndpointRate.updated_at.python_value(updated)
    tokens = min(burst, float(tokens) + rate * max(0.0, (now - updated).total_seconds()))
    return min(wanted, int(tokens)), tokens


def _claim_rated(endpoint_id: int, rate: float, room: int, now: dt.datetime, mysql: bool) -> list[tuple]:
    allowed, tokens = _take_tokens(endpoint_id, rate, room, now, mysql)
    rows = _select_due(now, allowed, mysql, only=endpoint_id) if allowed > 0 else []
    EndpointRate.update(tokens=tokens - len(rows), updated_at=now).where(
        EndpointRate.endpoint_id == endpoint_id
    ).execute()
    return rows


def _claim(
    worker_id: str,
    limit: int,
    lease_seconds: float,
    mysql: bool,
    blocked: Sequence[int] = (),
    probes: Sequence[int] = (),
    capacity: dict[int, int] | None = None,
    rates: dict[int, float] | None = None,
) -> list[Claim]:
    now = utcnow()
    capacity, rates = capacity or {}, rates or {}
    apart = [*blocked, *probes, *[e for e in rates if e not in blocked]]
    rows = _claim_within(now, limit, mysql, apart, dict(capacity))
    for endpoint_id in probes:
        rows += (
            _claim_rated(endpoint_id, rates[endpoint_id], 1, now, mysql)
            if endpoint_id in rates
            else _select_due(now, 1, mysql, only=endpoint_id)
        )
    for endpoint_id, rate in rates.items():
        room = min(capacity.get(endpoint_id, limit), limit - len(rows))
        if endpoint_id not in blocked and endpoint_id not in probes and room > 0:
            rows += _claim_rated(endpoint_id, rate, room, now, mysql)
    if not rows:
        return []
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    db.execute_sql(
        f"UPDATE delivery SET status = '{DELIVERING}', claimed_by = {db.param}, "
        f"lease_until = {db.param} WHERE status = '{PENDING}' AND id IN ({_params(len(rows))})",
        (worker_id, _when(lease_until), *[r[0] for r in rows]),
    )
    seqs = list({r[4] for r in rows})
    payload, occurred = OutboxEvent.payload.python_value, OutboxEvent.occurred_at.python_value
    events = {
        seq: (payload(body), occurred(occurred_at), traceparent)
        for seq, body, occurred_at, traceparent in db.execute_sql(
            f"SELECT seq, payload, occurred_at, traceparent FROM outbox_event WHERE seq IN ({_params(len(seqs))})", seqs
        ).fetchall()
    }
    return [
        Claim(
            delivery_id,
            event_id,
            endpoint_id,
            event_type,
            *events[event_seq][:2],
            worker_id,
            lease_until,
            since_replay,
            trigger,
            replayed_by,
            events[event_seq][2],
        )
        for delivery_id, event_id, endpoint_id, event_type, event_seq, since_replay, trigger, replayed_by in rows
    ]


@dataclass(frozen=True)
class Outcome:
    """What became of one claim: an attempt (with when to try next, if it failed and may be
    retried), or ``attempt=None``: given back unsent (``pending`` again, or ``held`` with
    ``give_up_status=HELD`` when its endpoint was disabled meanwhile)."""

    claim: Claim
    attempt: AttemptRecord | None
    next_attempt_at: dt.datetime | None = None
    give_up_status: str = FAILED  # when no next attempt: failed, or held (the endpoint is gone)


def _settle(outcomes: list[Outcome], mysql: bool) -> list[bool]:
    """Record outcomes; for each, whether the claim still held (else its result is discarded)."""
    if not outcomes:
        return []
    now = utcnow()
    sql = (
        f"SELECT id, claimed_by, lease_until FROM delivery WHERE status = '{DELIVERING}' "
        f"AND id IN ({_params(len(outcomes))})" + (" FOR UPDATE" if mysql else "")
    )
    lease = Delivery.lease_until.python_value
    holders = {
        seq: (owner, lease(until))
        for seq, owner, until in db.execute_sql(sql, [o.claim.seq for o in outcomes]).fetchall()
    }
    kept = [holders.get(o.claim.seq) == (o.claim.worker_id, o.claim.lease_until) for o in outcomes]
    settled = {Delivery.claimed_by: None, Delivery.lease_until: None}
    attempted = {
        **settled,
        Delivery.attempt_count: Delivery.attempt_count + 1,
        Delivery.attempts_since_replay: Delivery.attempts_since_replay + 1,
        Delivery.next_trigger: SCHEDULED,
        Delivery.replayed_by: None,
    }
    delivered, released, held, discarded, gone = [], [], [], [], set()
    for outcome, holds in zip(outcomes, kept, strict=True):
        if not holds:
            if outcome.attempt is not None:
                discarded.append(outcome.claim.seq)
            continue
        seq, attempt = outcome.claim.seq, outcome.attempt
        if attempt is None:
            (held if outcome.give_up_status == HELD else released).append(seq)
        elif attempt.ok:
            delivered.append(seq)
        else:
            failed = {**attempted, Delivery.last_error: attempt.error, Delivery.last_status_code: attempt.status_code}
            if outcome.next_attempt_at is None:
                failed[Delivery.status] = outcome.give_up_status
                if outcome.give_up_status == HELD:
                    gone.add(outcome.claim.endpoint_id)
                elif outcome.claim.type != PING:
                    raising.delivery_failed(
                        outcome.claim.endpoint_id,
                        outcome.claim.id,
                        outcome.claim.type,
                        attempt.error,
                        attempt.status_code,
                    )
            else:
                failed.update({Delivery.status: PENDING, Delivery.next_attempt_at: outcome.next_attempt_at})
            Delivery.update(failed).where(Delivery.id == seq).execute()
    if delivered:
        # One statement for the batch; each row's own status code is set below only when it is
        # not the common 2xx of the batch, so a busy turn stays at a handful of statements.
        codes = {
            o.attempt.status_code
            for o, holds in zip(outcomes, kept, strict=True)
            if holds and o.attempt is not None and o.attempt.ok
        }
        common = codes.pop() if len(codes) == 1 else None
        db.execute_sql(
            f"UPDATE delivery SET status = '{DELIVERED}', delivered_at = {db.param}, "
            f"last_error = NULL, last_status_code = {db.param}, attempt_count = attempt_count + 1, "
            f"attempts_since_replay = attempts_since_replay + 1, next_trigger = '{SCHEDULED}', "
            f"replayed_by = NULL, claimed_by = NULL, lease_until = NULL "
            f"WHERE id IN ({_params(len(delivered))})",
            (_when(now), common, *delivered),
        )
        if common is None:
            for outcome, holds in zip(outcomes, kept, strict=True):
                if holds and outcome.attempt is not None and outcome.attempt.ok:
                    Delivery.update(last_status_code=outcome.attempt.status_code).where(
                        Delivery.id == outcome.claim.seq
                    ).execute()
    for status, seqs in ((PENDING, released), (HELD, held)):
        if seqs:
            db.execute_sql(
                f"UPDATE delivery SET status = '{status}', claimed_by = NULL, lease_until = NULL "
                f"WHERE id IN ({_params(len(seqs))})",
                seqs,
            )
    if discarded:
        # The attempt happened and is listed, so it counts; the delivery's claim, retry step and
        # replay mark belong to whoever holds it now and are left alone.
        db.execute_sql(
            f"UPDATE delivery SET attempt_count = attempt_count + 1 WHERE id IN ({_params(len(discarded))})", discarded
        )
    _insert_attempts([(o, holds) for o, holds in zip(outcomes, kept, strict=True) if o.attempt is not None])
    for endpoint_id in gone:
        health.disable(endpoint_id, GONE)
    return kept


ATTEMPT_COLUMNS = (
    "event_id",
    "delivery_id",
    "attempt",
    "worker_id",
    "started_at",
    "status_code",
    "duration_ms",
    "error",
    "response_body",
    "trigger_kind",
    "replayed_by",
    "target_url",
    "signatures",
)


def _insert_attempts(made: list[tuple[Outcome, bool]]) -> None:
    """Attempt rows, numbered after the delivery's earlier attempts (replays keep the history)."""
    if not made:
        return
    ids = list({o.claim.seq for o, _ in made})
    numbers = dict(
        db.execute_sql(
            f"SELECT delivery_id, COUNT(*) FROM delivery_attempt WHERE delivery_id IN ({_params(len(ids))}) "
            f"GROUP BY delivery_id",
            ids,
        ).fetchall()
    )
    values: list = []
    for outcome, holds in made:
        attempt = outcome.attempt
        number = numbers.get(outcome.claim.seq, 0) + 1
        numbers[outcome.claim.seq] = number
        error = attempt.error
        if not holds:
            error = ((error + "; ") if error else "") + "result discarded: the claim was taken over or replayed"
        values += [
            outcome.claim.id,
            outcome.claim.seq,
            number,
            outcome.claim.worker_id,
            _when(attempt.started_at),
            attempt.status_code,
            attempt.duration_ms,
            error,
            attempt.response_body,
            outcome.claim.trigger,
            outcome.claim.replayed_by,
            attempt.target_url,
            attempt.signatures,
        ]
    row = f"({_params(len(ATTEMPT_COLUMNS))})"
    db.execute_sql(
        f"INSERT INTO delivery_attempt ({', '.join(ATTEMPT_COLUMNS)}) VALUES " + ", ".join([row] * len(made)), values
    )


def cycle(
    worker_id: str,
    outcomes: list[Outcome],
    limit: int,
    lease_seconds: float,
    blocked: Sequence[int] = (),
    probes: Sequence[int] = (),
    capacity: dict[int, int] | None = None,
    rates: dict[int, float] | None = None,
) -> tuple[list[bool], list[Claim]]:
    """One short transaction: settle finished claims, then claim up to ``limit`` due deliveries
    (none to the ``blocked`` endpoints, at most one to each of the ``probes``).

    Settling first lets an entity's next event be claimed in the same transaction. Run it
    outside a transaction (``store.call(..., transaction=False)``): it opens its own.
    """
    mysql = is_mysql(db)
    # READ COMMITTED: lock only the rows touched, no gap locks that would stall the API's inserts.
    with read_committed(db):
        kept = _settle(outcomes, mysql)
        claimed = (
            _claim(worker_id, limit, lease_seconds, mysql, blocked, probes, capacity, rates)
            if limit > 0 or probes
            else []
        )
    return kept, claimed


def claim_due(worker_id: str, limit: int, lease_seconds: float) -> list[Claim]:
    """Claim up to ``limit`` due deliveries for ``worker_id`` (opens its own transaction)."""
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
    """Put deliveries whose lease ran out (their worker died or hung) back in the queue.

    Opens its own READ COMMITTED transaction on MySQL, like ``cycle``: a range update under
    REPEATABLE READ would gap-lock the in-flight range that every claim writes into.
    """
    with read_committed(db):
        return (
            Delivery.update(status=PENDING, claimed_by=None, lease_until=None)
            .where((Delivery.status == DELIVERING) & (Delivery.lease_until < utcnow()))
            .execute()
        )


def backlog() -> int:
    """Deliveries not yet delivered nor failed (pending or in flight; held ones wait for an
    operator, not for the worker)."""
    return Delivery.select().where(Delivery.status.in_((PENDING, DELIVERING))).count()
