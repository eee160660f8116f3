"""``/events`` (the CRM audit log, filtered) and ``/events/:id`` (one event with its payload)."""

from __future__ import annotations

from core.contract import EVENT_TYPES

from ..contract import EVENT_STATUSES
from .base import PageHandler


class EventsHandler(PageHandler):
    async def get(self) -> None:
        filters = self.list_args("type", "status", "entity_id")
        page = await self.fetch(self.services.crm.events(**filters, cursor=self.get_argument("cursor", None), limit=50))
        self.render_page(
            "events.html",
            title="CRM events",
            filters=filters,
            types=EVENT_TYPES,
            statuses=EVENT_STATUSES,
            events=page.get("data") if page else None,
            older=self.older_link(page.get("next_cursor") if page else None, filters),
            paged=bool(self.get_argument("cursor", None)),
        )


class EventHandler(PageHandler):
    async def get(self, event_id: str) -> None:
        event = await self.fetch_one(self.services.crm.event(int(event_id)), "event")
        self.render_page("event.html", title=f"CRM event {event_id}", event=event, event_id=event_id)


default_handlers = [
    (r"/events", EventsHandler),
    (r"/events/([0-9]{1,18})", EventHandler),
]
