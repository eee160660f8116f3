"""``/deliveries`` (the PMS outbox), ``/deliveries/:id`` (every attempt) and the two replay actions.

Replays are POSTs (XSRF-protected) that call the PMS and redirect back with a flash message.
"""

from __future__ import annotations

from urllib.parse import quote

from core.contract import EVENT_TYPES

from ..clients import ServiceNotFound, ServiceRejected, ServiceUnavailable
from .base import PageHandler

DELIVERY_STATUSES = ("pending", "delivering", "delivered", "failed")
DELIVERY_ID = r"([0-9A-Za-z\-]{1,64})"


class DeliveriesHandler(PageHandler):
    async def get(self) -> None:
        filters = self.list_args("status", "type")
        page = await self.fetch(self.services.pms.deliveries(**filters, cursor=self.get_argument("cursor", None), limit=50))
        self.render_page(
            "deliveries.html", title="Deliveries", filters=filters, types=EVENT_TYPES, statuses=DELIVERY_STATUSES,
            deliveries=page.get("data") if page else None,
            older=self.older_link(page.get("next_cursor") if page else None, filters),
            paged=bool(self.get_argument("cursor", None)),
        )


class DeliveryHandler(PageHandler):
    async def get(self, delivery_id: str) -> None:
        delivery = await self.fetch_one(self.services.pms.delivery(delivery_id), "delivery")
        self.render_page("delivery.html", title=f"Delivery {delivery_id[:8]}", delivery=delivery,
                         delivery_id=delivery_id)


class ReplayHandler(PageHandler):
    async def post(self, delivery_id: str) -> None:
        try:
            await self.services.pms.replay(delivery_id)
            self.flash("good", "Queued again: the PMS will deliver this event to the CRM shortly.")
        except ServiceNotFound:
            self.flash("bad", "The PMS has no such delivery (it may have been pruned).")
        except (ServiceUnavailable, ServiceRejected) as exc:
            self.flash("bad", f"Not replayed: the {exc.service} {exc.message}.")
        self.redirect("/deliveries/" + quote(delivery_id, safe=""))


class ReplayFailedHandler(PageHandler):
    async def post(self) -> None:
        try:
            count = await self.services.pms.replay_failed()
            if count:
                self.flash("good", f"Queued again: {count} failed deliver{'y' if count == 1 else 'ies'}.")
            else:
                self.flash("muted", "There were no failed deliveries to replay.")
        except (ServiceUnavailable, ServiceRejected, ServiceNotFound) as exc:
            self.flash("bad", f"Nothing replayed: the {exc.service} {exc.message}.")
        self.redirect("/deliveries")


default_handlers = [
    (r"/deliveries", DeliveriesHandler),
    (r"/deliveries/replay-failed", ReplayFailedHandler),
    (r"/deliveries/" + DELIVERY_ID, DeliveryHandler),
    (r"/deliveries/" + DELIVERY_ID + r"/replay", ReplayHandler),
]
