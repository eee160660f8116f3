"""GraphQL audit-log events: the type, ``event(id)``, ``events(...)`` and a profile's batch-loaded
events, over ``services.events``."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from core.errors import NotFoundError
from core.graphql.arguments import choice, found_id, non_negative
from core.graphql.context import Context
from core.graphql.relay import Connection, connection, from_row, page_request
from core.pagination import PageRequest

from ..models import EVENT_STATUSES
from ..services import events as event_service


@strawberry.type
class Event:
    id: int
    webhook_id: str
    type: str
    status: str
    entity_id: int | None
    entity_version: int | None
    occurred_at: str | None
    received_at: str
    payload: JSON | None


def event_connection(rows: list[dict], cursor: str | None, page: PageRequest) -> Connection[Event]:
    return connection(rows, cursor, page, "id", lambda row: from_row(Event, row))


async def events_of_guest(context: Context, guest_id: int, page: PageRequest) -> Connection[Event]:
    """A profile's events, loaded with every other profile's of the same request in one query."""

    async def load(keys: list[tuple[int, PageRequest]]) -> list:
        found: dict[tuple[int, PageRequest], tuple] = {}
        for shared in {p for _, p in keys}:
            guest_ids = [g for g, p in keys if p == shared]
            pages = await context.run(event_service.events_of_guests, guest_ids, shared)
            found.update({(g, shared): pages[g] for g in guest_ids})
        return [found[key] for key in keys]

    rows, cursor = await context.loader("profile.events", load).load((guest_id, page))
    return event_connection(rows, cursor, page)


async def event(info: strawberry.Info, id: int) -> Event | None:
    if not found_id(id):
        return None
    try:
        return from_row(Event, await info.context.run(event_service.get_event, id))
    except NotFoundError:
        return None


async def events(
    info: strawberry.Info,
    first: int | None = None,
    after: str | None = None,
    type: str | None = None,
    status: str | None = None,
    entity_id: int | None = None,
    guest_id: int | None = None,
) -> Connection[Event] | None:
    page = page_request(first, after)
    status = choice("status", status, EVENT_STATUSES)
    entity_id = non_negative("entityId", entity_id)
    guest_id = non_negative("guestId", guest_id)
    rows, cursor = await info.context.run(event_service.list_events, page, type or None, status, entity_id, guest_id)
    return event_connection(rows, cursor, page)
