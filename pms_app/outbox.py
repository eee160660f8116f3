"""Writing outbox events: called inside the same transaction as the change they announce.

Fan-out happens here, in that same transaction: the event is stored once, and one delivery row
is written for every endpoint whose ``event_types`` match its type: ``pending`` for an enabled
endpoint, ``held`` for a disabled one (kept, and sent when it is enabled again). Reading the
endpoints costs one small query per change; a cache would need invalidating across processes,
and an endpoint created a moment ago must get the very next event.

Each event keeps the trace context of the request being served (``core.tracing``), so its
webhook continues that request's trace. Reconciliation's repairs (``record_events``) go to one
endpoint only, the CRM: they restore what the CRM lacks, and another endpoint's history is none
of their business.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from core.db import iso, utcnow
from core.tracing import current_traceparent

from .endpoints.matching import matches
from .endpoints.models import Endpoint
from .models import CRM_ENDPOINT_ID, HELD, PENDING, Delivery, OutboxEvent

# (type, entity_id, entity_version, payload, occurred_at) of one event to queue.
NewEvent = tuple[str, int, int, dict, dt.datetime]


def event_row(event_type: str, entity_id: int, entity_version: int, payload: dict, occurred_at: dt.datetime) -> dict:
    """The outbox row of one new event, under a fresh UUID (its webhook-id), in the current trace."""
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "entity_id": entity_id,
        "entity_version": entity_version,
        "payload": payload,
        "occurred_at": occurred_at,
        "traceparent": current_traceparent(),
    }


def delivery_row(event: OutboxEvent, endpoint_id: int, enabled: bool, now: dt.datetime) -> dict:
    """The delivery of ``event`` to one endpoint: due at once, or held while it is disabled."""
    guest_id = event.entity_id if event.type.startswith("guest.") else event.payload.get("guest_id")
    return {
        "event_seq": event.seq,
        "event_id": event.id,
        "endpoint_id": endpoint_id,
        "type": event.type,
        "entity_id": event.entity_id,
        "entity_version": event.entity_version,
        "guest_id": guest_id,
        "status": PENDING if enabled else HELD,
        "next_attempt_at": event.occurred_at,
        "created_at": now,
    }


def record_event(
    event_type: str, entity_id: int, entity_version: int, payload: dict, occurred_at: dt.datetime
) -> OutboxEvent:
    """Queue one webhook event for every matching endpoint; it commits or rolls back with the
    caller's transaction."""
    event = OutboxEvent.create(**event_row(event_type, entity_id, entity_version, payload, occurred_at))
    now = utcnow()
    rows = [
        delivery_row(event, endpoint_id, enabled, now)
        for endpoint_id, enabled, event_types in Endpoint.select(
            Endpoint.id, Endpoint.enabled, Endpoint.event_types
        ).tuples()
        if matches(event_types, event_type)
    ]
    if rows:
        Delivery.insert_many(rows).execute()
    return event


def record_events(events: Iterable[NewEvent], endpoint_id: int = CRM_ENDPOINT_ID, batch_size: int = 500) -> int:
    """Queue many events for ONE endpoint (reconciliation's repairs for the CRM), whatever its
    filter, with three statements per ``batch_size`` events; same transaction rules as
    ``record_event``. Returns how many."""
    enabled = Endpoint.select(Endpoint.enabled).where(Endpoint.id == endpoint_id).scalar()
    if enabled is None:
        raise LookupError(f"no endpoint {endpoint_id}")
    rows = [event_row(*event) for event in events]
    now = utcnow()
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        OutboxEvent.insert_many(batch).execute()
        # Ids are the UUIDs we chose; read the sequence numbers the database gave them.
        stored = OutboxEvent.select().where(OutboxEvent.id.in_([row["id"] for row in batch]))
        Delivery.insert_many([delivery_row(event, endpoint_id, bool(enabled), now) for event in stored]).execute()
    return len(rows)


def deleted_payload(entity_id: int, version: int, deleted_at: dt.datetime, **extra) -> dict:
    """The payload of a ``*.deleted`` event: ``{"id", "version", "deleted_at"}`` plus extras."""
    return {"id": entity_id, "version": version, "deleted_at": iso(deleted_at), **extra}
