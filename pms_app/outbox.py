"""Writing outbox events: called inside the same transaction as the change they announce.

Fan-out happens here, in that same transaction: the event is stored once, and one delivery row
is written for every endpoint whose ``event_types`` match its type: ``pending`` for an enabled
endpoint, ``held`` for a disabled one (kept, and sent when it is enabled again). Reading the
endpoints costs one small query per change; a cache would need invalidating across processes,
and an endpoint created a moment ago must get the very next event.
"""

from __future__ import annotations

import datetime as dt
import uuid

from core.db import iso, utcnow

from .endpoints.matching import matches
from .endpoints.models import Endpoint
from .models import HELD, PENDING, Delivery, OutboxEvent


def record_event(event_type: str, entity_id: int, entity_version: int, payload: dict,
                 occurred_at: dt.datetime) -> OutboxEvent:
    """Queue one webhook event for every matching endpoint; it commits or rolls back with the
    caller's transaction."""
    event = OutboxEvent.create(
        id=str(uuid.uuid4()),
        type=event_type,
        entity_id=entity_id,
        entity_version=entity_version,
        payload=payload,
        occurred_at=occurred_at,
    )
    endpoints = Endpoint.select(Endpoint.id, Endpoint.enabled, Endpoint.event_types).tuples()
    now = utcnow()
    guest_id = entity_id if event_type.startswith("guest.") else payload.get("guest_id")
    rows = [{"event_seq": event.seq, "event_id": event.id, "endpoint_id": endpoint_id, "type": event_type,
             "entity_id": entity_id, "entity_version": entity_version, "guest_id": guest_id,
             "status": PENDING if enabled else HELD, "next_attempt_at": occurred_at, "created_at": now}
            for endpoint_id, enabled, event_types in endpoints
            if matches(event_types, event_type)]
    if rows:
        Delivery.insert_many(rows).execute()
    return event


def deleted_payload(entity_id: int, version: int, deleted_at: dt.datetime, **extra) -> dict:
    """The payload of a ``*.deleted`` event: ``{"id", "version", "deleted_at"}`` plus extras."""
    return {"id": entity_id, "version": version, "deleted_at": iso(deleted_at), **extra}
