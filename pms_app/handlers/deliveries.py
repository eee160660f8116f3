"""Part one's webhook delivery routes, on endpoint 1 (the CRM): the status, the delivery list and
detail, replay (thin over services.deliveries)."""

from __future__ import annotations

from core.contract import EVENT_TYPES

from ..models import CRM_ENDPOINT_ID, DELIVERY_STATUSES
from ..services import deliveries
from ..sync import runs
from ..sync.lease import RECONCILE
from .base import PmsHandler


class WebhookStatusHandler(PmsHandler):
    route_name = "webhook_status"

    async def get(self) -> None:
        status = await self.store.run(deliveries.webhook_status, CRM_ENDPOINT_ID,
                                      self.settings["outbox_counts"])
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
        status = self.choice_argument("status", DELIVERY_STATUSES)
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
