"""Webhook delivery routes: the status, the outbox list and detail, replay (thin over services.deliveries)."""

from __future__ import annotations

from core.config import redact_url
from core.contract import EVENT_TYPES

from ..models import OUTBOX_STATUSES
from ..services import deliveries
from ..sync import runs
from ..sync.lease import RECONCILE
from .base import PmsHandler


class WebhookStatusHandler(PmsHandler):
    route_name = "webhook_status"

    async def get(self) -> None:
        endpoint = redact_url(self.config.crm_webhook_url)
        status = await self.store.run(deliveries.webhook_status, endpoint, self.settings["outbox_counts"])
        status["sync"] = await self.store.run(runs.sync_status, RECONCILE)
        self.write_data(status)


class BreakerTransitionsHandler(PmsHandler):
    route_name = "breaker_transitions"

    async def get(self) -> None:
        rows, cursor = await self.store.run(deliveries.list_breaker_transitions, self.page_request())
        self.write_list(rows, cursor)


class DeliveriesHandler(PmsHandler):
    route_name = "deliveries"

    async def get(self) -> None:
        page = self.page_request()
        status = self.choice_argument("status", OUTBOX_STATUSES)
        event_type = self.choice_argument("type", EVENT_TYPES)
        rows, cursor = await self.store.run(deliveries.list_deliveries, page, status, event_type)
        self.write_list(rows, cursor)


class DeliveryHandler(PmsHandler):
    route_name = "delivery"

    async def get(self, event_id: str) -> None:
        self.write_data(await self.store.run(deliveries.get_delivery, event_id))


class ReplayHandler(PmsHandler):
    route_name = "delivery_replay"

    async def post(self, event_id: str) -> None:
        self.write_data(await self.write_change(deliveries.replay, self.actor, event_id), 202)


class ReplayFailedHandler(PmsHandler):
    route_name = "deliveries_replay_failed"

    async def post(self) -> None:
        replayed = await self.write_change(deliveries.replay_failed, self.actor)
        self.write_data({"replayed": replayed}, 202)


default_handlers = [
    (r"/guests/webhook/status", WebhookStatusHandler),
    (r"/guests/webhook/transitions", BreakerTransitionsHandler),
    (r"/webhooks/deliveries", DeliveriesHandler),
    (r"/webhooks/deliveries/replay", ReplayFailedHandler),
    (r"/webhooks/deliveries/([^/]+)/replay", ReplayHandler),
    (r"/webhooks/deliveries/([^/]+)", DeliveryHandler),
]
