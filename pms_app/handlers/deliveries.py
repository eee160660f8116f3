"""Part one's webhook delivery routes, on endpoint 1 (the CRM): the status, the delivery list and
detail, replay (thin over services.deliveries). ``delivery_filter`` reads the list filters
every delivery list takes (here and per endpoint)."""

from __future__ import annotations

from core.contract import EVENT_TYPES

from ..models import CRM_ENDPOINT_ID, DELIVERY_STATUSES
from ..services import deliveries
from ..services.deliveries import DeliveryFilter, parse_id_prefix
from ..sync import runs
from ..sync.lease import RECONCILE
from .base import PmsHandler


def delivery_filter(handler: PmsHandler, types: tuple[str, ...] | None = EVENT_TYPES) -> DeliveryFilter:
    """``?status=``, ``?type=``, ``?entity_id=``, ``?guest_id=``, ``?since=``/``?until=`` (ISO
    times, on ``created_at``) and ``?id_prefix=``; ``types=None`` takes any type name."""
    event_type = (
        handler.choice_argument("type", types) if types is not None else handler.get_argument("type", None) or None
    )
    return DeliveryFilter(
        status=handler.choice_argument("status", DELIVERY_STATUSES),
        event_type=event_type,
        entity_id=handler.int_argument("entity_id"),
        guest_id=handler.int_argument("guest_id"),
        since=handler.time_argument("since"),
        until=handler.time_argument("until"),
        id_prefix=parse_id_prefix(handler.get_argument("id_prefix", None)),
    )


class WebhookStatusHandler(PmsHandler):
    route_name = "webhook_status"

    async def get(self) -> None:
        status = await self.store.run(deliveries.webhook_status, CRM_ENDPOINT_ID, self.settings["outbox_counts"])
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
        rows, cursor = await self.store.run(
            deliveries.list_deliveries, page, None, None, CRM_ENDPOINT_ID, delivery_filter(self)
        )
        self.write_list(rows, cursor)


class DeliveriesCountHandler(PmsHandler):
    route_name = "deliveries_count"

    async def get(self) -> None:
        count = await self.store.run(deliveries.count_deliveries, CRM_ENDPOINT_ID, delivery_filter(self))
        self.write_data({"count": count})


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
    (r"/webhooks/deliveries/count", DeliveriesCountHandler),
    (r"/webhooks/deliveries/replay", ReplayFailedHandler),
    (r"/webhooks/deliveries/([^/]+)/replay", ReplayHandler),
    (r"/webhooks/deliveries/([^/]+)", DeliveryHandler),
]
