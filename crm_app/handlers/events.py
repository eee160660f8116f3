"""``/events`` and ``/events/:id``: the audit log, thin handlers over ``services.events``."""

from __future__ import annotations

from core.handlers import APIHandler

from ..models import EVENT_STATUSES
from ..services import events


class EventsHandler(APIHandler):
    route_name = "events"

    async def get(self) -> None:
        page = self.page_request()
        event_type = self.get_argument("type", None) or None
        status = self.choice_argument("status", EVENT_STATUSES)
        entity_id = self.int_argument("entity_id")
        guest_id = self.int_argument("guest_id")
        webhook_id = self.get_argument("webhook_id", None) or None
        rows, cursor = await self.store.run(
            events.list_events, page, event_type, status, entity_id, guest_id, webhook_id, transaction=False
        )
        self.write_list(rows, cursor)


class EventHandler(APIHandler):
    route_name = "event"

    async def get(self, event_id: str) -> None:
        self.write_data(await self.store.run(events.get_event, self.path_id(event_id), transaction=False))


default_handlers = [
    (r"/events", EventsHandler),
    (r"/events/([0-9]+)", EventHandler),
]
