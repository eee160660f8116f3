"""The outbox as the API shows it: list, detail, replay, and the webhook delivery status.

Deliveries are addressed by their UUID; lists page by the integer ``seq`` (commit order is not
guaranteed, but ``seq`` is the order events were written). ``?since_id=N`` on the list means
"events with ``seq`` greater than N", ascending; each summary carries its ``seq`` for that.
Replaying queues an event again now, whatever its state, with a fresh retry schedule
(``attempts_since_replay`` back to 0; ``attempt_count`` and the attempt history keep growing).
The replay marks the event so its next attempt records ``trigger: "replay"`` and who asked
(``replayed_by``), and it is written to the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import peewee as pw

from core.db import iso, utcnow
from core.errors import NotFoundError
from core.pagination import PageRequest, paginate

from ..delivery.breaker import SEVERITY
from ..delivery.models import BreakerTransition, DeliveryWorker
from ..models import FAILED, PENDING, REPLAY, BreakerState, DeliveryAttempt, OutboxEvent
from ..operators import Actor
from . import audit
from .outbox_counts import OutboxCounts

# A worker is live while its heartbeat (every second by default) is at most this old.
WORKER_LIVE_SECONDS = 5.0


def summary(event: OutboxEvent) -> dict:
    return {**event.to_summary(), "seq": event.seq}


def list_deliveries(page: PageRequest, status: str | None = None,
                    event_type: str | None = None) -> tuple[list[dict], str | None]:
    query = OutboxEvent.select(*[f for f in OutboxEvent._meta.sorted_fields if f.name != "payload"])
    if status:
        query = query.where(OutboxEvent.status == status)
    if event_type:
        query = query.where(OutboxEvent.type == event_type)
    rows, cursor = paginate(query, OutboxEvent.seq, page)
    return [summary(e) for e in rows], cursor


def _get(event_id: str) -> OutboxEvent:
    event = OutboxEvent.get_or_none(OutboxEvent.id == event_id[:36])
    if event is None or len(event_id) > 36:
        raise NotFoundError(f"delivery {event_id} not found")
    return event


def get_delivery(event_id: str) -> dict:
    event = _get(event_id)
    return {**summary(event), "payload": event.payload, "attempts": attempts_of([event.id])[event.id]}


def attempts_of(event_ids: list[str]) -> dict[str, list[dict]]:
    """Every attempt of each of ``event_ids``, oldest first, in one query (the detail route, and
    GraphQL's batched ``delivery.attempts``)."""
    found: dict[str, list[dict]] = {event_id: [] for event_id in event_ids}
    if event_ids:
        attempts = (DeliveryAttempt.select()
                    .where(DeliveryAttempt.event_id.in_(sorted(set(event_ids))))
                    .order_by(DeliveryAttempt.id))
        for attempt in attempts:
            found[attempt.event_id].append(attempt.to_api())
    return found


def _requeue_fields(now: dt.datetime, actor: Actor) -> dict:
    return {OutboxEvent.status: PENDING, OutboxEvent.attempts_since_replay: 0,
            OutboxEvent.next_attempt_at: now, OutboxEvent.claimed_by: None,
            OutboxEvent.lease_until: None, OutboxEvent.delivered_at: None,
            OutboxEvent.next_trigger: REPLAY, OutboxEvent.replayed_by: actor.operator}


def replay(actor: Actor, event_id: str) -> dict:
    """Queue one event again now, on ``actor``'s behalf; 404 if unknown."""
    event = _get(event_id)
    OutboxEvent.update(_requeue_fields(utcnow(), actor)).where(OutboxEvent.seq == event.seq).execute()
    audit.record(actor, audit.DELIVERY_REPLAY, event.id, previous_status=event.status)
    return summary(OutboxEvent.get_by_id(event.seq))


def replay_failed(actor: Actor) -> int:
    """Queue every ``failed`` event again now, on ``actor``'s behalf; returns how many."""
    replayed = (OutboxEvent.update(_requeue_fields(utcnow(), actor))
                .where(OutboxEvent.status == FAILED).execute())
    # Recorded even when nothing was failed: someone asked, and an auditor may need to know.
    audit.record(actor, audit.DELIVERIES_REPLAY_FAILED, None, replayed=replayed)
    return replayed


def list_breaker_transitions(page: PageRequest) -> tuple[list[dict], str | None]:
    """The history of every worker's breaker state changes, newest first."""
    rows, cursor = paginate(BreakerTransition.select(), BreakerTransition.id, page)
    return [{"id": t.id, **t.to_api()} for t in rows], cursor


def _worker(row: BreakerState) -> dict:
    return {"worker_id": row.worker_id, "state": row.state, "failure_count": row.failure_count,
            "opened_at": iso(row.opened_at), "updated_at": iso(row.updated_at)}


def webhook_status(endpoint: str, counts: OutboxCounts | None = None,
                   live_seconds: float = WORKER_LIVE_SECONDS) -> dict:
    """SPEC s4 ``GET /guests/webhook/status``: the worst live worker's breaker, outbox counts."""
    cutoff = utcnow() - dt.timedelta(seconds=live_seconds)
    rows = list(BreakerState.select()
                .where((BreakerState.endpoint == endpoint) & (BreakerState.updated_at >= cutoff))
                .order_by(BreakerState.worker_id))
    worst = max(rows, key=lambda r: (SEVERITY.get(r.state, 0), r.failure_count), default=None)
    last = DeliveryWorker.select(pw.fn.MAX(DeliveryWorker.last_success_at),
                                 pw.fn.MAX(DeliveryWorker.last_failure_at)).tuples().first()
    last_success, last_failure = last if last else (None, None)
    return {
        "endpoint": endpoint,
        "breaker": {
            "state": worst.state if worst else "closed",
            "failure_count": worst.failure_count if worst else 0,
            "opened_at": iso(worst.opened_at) if worst else None,
            "workers": [_worker(r) for r in rows],
        },
        "outbox": (counts or OutboxCounts()).read(),
        "last_success_at": iso(_as_datetime(last_success)),
        "last_failure_at": iso(_as_datetime(last_failure)),
    }


def _as_datetime(value):
    """MAX() over a datetime column comes back as text on SQLite."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value
