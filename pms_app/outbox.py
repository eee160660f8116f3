"""Writing outbox events: called inside the same transaction as the change they announce."""

from __future__ import annotations

import datetime as dt
import uuid

from core.db import iso

from .models import OutboxEvent


def record_event(event_type: str, entity_id: int, entity_version: int, payload: dict,
                 occurred_at: dt.datetime) -> OutboxEvent:
    """Queue one webhook event; it commits or rolls back with the caller's transaction."""
    return OutboxEvent.create(
        id=str(uuid.uuid4()),
        type=event_type,
        entity_id=entity_id,
        entity_version=entity_version,
        payload=payload,
        occurred_at=occurred_at,
        next_attempt_at=occurred_at,
    )


def deleted_payload(entity_id: int, version: int, deleted_at: dt.datetime, **extra) -> dict:
    """The payload of a ``*.deleted`` event: ``{"id", "version", "deleted_at"}`` plus extras."""
    return {"id": entity_id, "version": version, "deleted_at": iso(deleted_at), **extra}
