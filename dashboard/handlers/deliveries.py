"""``/deliveries`` (the PMS outbox), ``/deliveries/:id`` (every attempt) and the two replay actions.

Replays are POSTs (XSRF-protected) that call the PMS in the signed-in operator's name and
redirect back with a flash message. A single replay acts at once; "Replay all failed" first
answers with a preview (how many, and the first rows) and acts only on a POST with ``confirm=1``.
"""

from __future__ import annotations

import asyncio

from core.contract import EVENT_TYPES

from ..clients import ServiceNotFound, ServiceRejected, ServiceUnavailable
from ..contract import DELIVERY_STATUSES
from ..links import segment
from .base import PageHandler

DELIVERY_ID = r"([0-9A-Za-z\-]{1,64})"
PREVIEW_ROWS = 20


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
        attempts = (delivery or {}).get("attempts") or []
        self.render_page("delivery.html", title=f"Delivery {delivery_id[:8]}", delivery=delivery,
                         delivery_id=delivery_id, attempts=attempts,
                         show_origin=any(a.get("trigger") or a.get("replayed_by") for a in attempts))


class ReplayHandler(PageHandler):
    async def post(self, delivery_id: str) -> None:
        try:
            await self.services.pms.replay(delivery_id, operator=self.current_user)
            self.flash("good", "Queued again: the PMS will deliver this event to the CRM shortly.")
        except ServiceNotFound:
            self.flash("bad", "The PMS has no such delivery (it may have been pruned).")
        except (ServiceUnavailable, ServiceRejected) as exc:
            self.flash("bad", f"Not replayed: the {exc.service} {exc.message}.")
        self.redirect("/deliveries/" + segment(delivery_id))


class ReplayFailedHandler(PageHandler):
    async def post(self) -> None:
        if self.get_argument("confirm", "") == "1":
            await self.replay_all()
        else:
            await self.preview()

    async def preview(self) -> None:
        pms = self.services.pms
        status, page = await asyncio.gather(
            self.fetch(pms.status()),
            self.fetch(pms.deliveries(status="failed", limit=PREVIEW_ROWS)))
        rows = page.get("data") if page else None
        # The outbox counts are exact; the list alone only says "at least this many".
        count = ((status or {}).get("outbox") or {}).get("failed")
        self.render_page("replay_preview.html", title="Replay all failed deliveries", rows=rows,
                         count=count, more=bool(page and page.get("next_cursor")))

    async def replay_all(self) -> None:
        try:
            count = await self.services.pms.replay_failed(operator=self.current_user)
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
