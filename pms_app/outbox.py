"""Writing outbox events: called inside the same transaction as the change they announce."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Iterable

from core.db import iso

from .models import OutboxEvent

# (type, entity_id, entity_version, payload, occurred_at) of one event to queue.
NewEvent = tuple[str, int, int, dict, dt.datetime]


def event_row(event_type: str, entity_id: int, entity_version: int, payload: dict,
              occurred_at: dt.datetime) -> dict:
    """The outbox row of one new event: due at once, under a fresh UUID (its webhook-id)."""
    return {"id": str(uuid.uuid4()), "type": event_type, "entity_id": entity_id,
            "entity_version": entity_version, "payload": payload, "occurred_at": occurred_at,
            "next_attempt_at": occurred_at}


def record_event(event_type: str, entity_id: int, entity_version: int, payload: dict,
                 occurred_at: dt.datetime) -> OutboxEvent:
    """Queue one webhook event; it commits or rolls back with the caller's transaction."""
    return OutboxEvent.create(**event_row(event_type, entity_id, entity_version, payload, occurred_at))


def record_events(events: Iterable[NewEvent], batch_size: int = 500) -> int:
    """Queue many events with one multi-row INSERT per ``batch_size`` (reconciliation's repairs);
    same rows as ``record_event``, same transaction rules. Returns how many."""
    rows = [event_row(*event) for event in events]
    for start in range(0, len(rows), batch_size):
        OutboxEvent.insert_many(rows[start:start + batch_size]).execute()
    return len(rows)


def deleted_payload(entity_id: int, version: int, deleted_at: dt.datetime, **extra) -> dict:
    """The payload of a ``*.deleted`` event: ``{"id", "version", "deleted_at"}`` plus extras."""
    return {"id": entity_id, "version": version, "deleted_at": iso(deleted_at), **extra}
