"""Reading the audit log: ``GET /events`` and ``GET /events/:id``."""

from __future__ import annotations

from core.contract import MAX_ID
from core.db import iso
from core.errors import NotFoundError
from core.pagination import PageRequest, paginate, paginate_per_parent

from ..models import Event


def event_to_api(event: Event) -> dict:
    return {
        "id": event.id,
        "webhook_id": event.webhook_id,
        "type": event.type,
        "status": event.status,
        "entity_id": event.entity_id,
        "entity_version": event.entity_version,
        "occurred_at": iso(event.occurred_at),
        "received_at": iso(event.received_at),
        "payload": event.payload,
    }


def list_events(
    page: PageRequest,
    type: str | None = None,
    status: str | None = None,
    entity_id: int | None = None,
    guest_id: int | None = None,
    webhook_id: str | None = None,
) -> tuple[list[dict], str | None]:
    query = Event.select()
    if webhook_id is not None:
        # Unique: the event a delivery produced (the dashboard links a delivery to it).
        query = query.where(Event.webhook_id == webhook_id)
    if type is not None:
        query = query.where(Event.type == type)
    if status is not None:
        query = query.where(Event.status == status)
    if entity_id is not None:
        query = query.where(Event.entity_id == min(entity_id, MAX_ID))
    if guest_id is not None:
        query = query.where(Event.guest_id == min(guest_id, MAX_ID))
    rows, cursor = paginate(query, Event.id, page)
    return [event_to_api(e) for e in rows], cursor


def get_event(event_id: int) -> dict:
    event = Event.get_or_none(Event.id == event_id) if event_id <= MAX_ID else None
    if event is None:
        raise NotFoundError(f"event {event_id} not found")
    return event_to_api(event)


def events_of_guests(guest_ids: list[int], page: PageRequest) -> dict[int, tuple[list[dict], str | None]]:
    """The same page as ``list_events(page, guest_id=...)``, for many guests in one query
    (GraphQL's ``profile.events``)."""
    pages = paginate_per_parent(Event.select(), Event.guest_id, Event.id, guest_ids, page)
    return {guest_id: ([event_to_api(e) for e in rows], cursor) for guest_id, (rows, cursor) in pages.items()}


def events_by_webhook_ids(webhook_ids: list[str]) -> list[dict]:
    """The audit-log rows of just-committed webhooks, oldest first, each with the ``guest_id``
    it concerns (what live subscriptions filter on)."""
    if not webhook_ids:
        return []
    rows = Event.select().where(Event.webhook_id.in_(webhook_ids)).order_by(Event.id)
    return [{**event_to_api(e), "guest_id": e.guest_id} for e in rows]
