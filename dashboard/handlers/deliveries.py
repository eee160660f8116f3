"""``/deliveries`` (one endpoint's deliveries, filtered), ``/deliveries/:id`` (every attempt, every
destination) and the replay actions.

The list is one endpoint's (``?endpoint=``, the CRM unless told), filtered by status, type,
entity, guest, id (a prefix: the short ids pages show) and creation time; every row has its
own Replay button, and the pager keeps the filters. Replays are POSTs (XSRF-protected) made in
the signed-in operator's name, which redirect back with a flash message. A single replay acts
at once; a bulk replay (every failed delivery of an endpoint, or with ``since`` every delivery
created since then) first answers with a preview (how many, and the first rows) and acts only
on a POST with ``confirm=1``.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

from core.contract import EVENT_TYPES

from ..clients import CRM_ENDPOINT, ServiceNotFound, ServiceRejected, ServiceUnavailable
from ..contract import DELIVERY_STATUSES
from ..links import safe_next, segment
from .base import PageHandler, rejection_text

DELIVERY_ID = r"([0-9A-Za-z\-]{1,64})"
PREVIEW_ROWS = 20
FILTERS = ("status", "type", "entity_id", "guest_id", "id", "since", "until")
# What a datetime-local field sends (taken as UTC, as the form says), or a full ISO time.
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?")


def endpoint_of(raw: str | None) -> int:
    """The endpoint a form or link names; the CRM (endpoint 1) when none or nonsense."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) > 0 else CRM_ENDPOINT


def delivery_link(delivery_id: str, endpoint_id: int) -> str:
    link = "/deliveries/" + segment(delivery_id)
    return link if endpoint_id == CRM_ENDPOINT else link + "?" + urlencode({"endpoint": endpoint_id})


def pms_params(filters: dict[str, str]) -> dict[str, str]:
    """The page's filters as the PMS's list parameters (``id`` is a prefix there)."""
    params = {k: v for k, v in filters.items() if k in FILTERS and k != "id"}
    if filters.get("id"):
        params["id_prefix"] = filters["id"]
    return params


class DeliveriesHandler(PageHandler):
    async def get(self) -> None:
        endpoint_id = endpoint_of(self.get_argument("endpoint", None))
        filters = self.list_args(*FILTERS)
        problems = [
            f"{name}: not a date and time"
            for name in ("since", "until")
            if name in filters and not _TIME.fullmatch(filters[name])
        ]
        for problem in problems:
            self.add_banner("Filter", problem, level="warn")
        pms = self.services.pms
        page, endpoints = None, None
        if not problems:
            page, endpoints = await asyncio.gather(
                self.fetch(
                    pms.endpoint_deliveries(
                        endpoint_id, **pms_params(filters), cursor=self.get_argument("cursor", None), limit=50
                    )
                ),
                self.fetch_optional(pms.endpoints(limit=500)),
            )
        kept = {**({"endpoint": str(endpoint_id)} if endpoint_id != CRM_ENDPOINT else {}), **filters}
        self.render_page(
            "deliveries.html",
            title="Deliveries",
            filters=filters,
            types=EVENT_TYPES,
            statuses=DELIVERY_STATUSES,
            endpoint_id=endpoint_id,
            endpoints=(endpoints or {}).get("data") or [],
            deliveries=page.get("data") if page else None,
            older=self.older_link(page.get("next_cursor") if page else None, kept),
            paged=bool(self.get_argument("cursor", None)),
            here=self.request.uri,
            delivery_link=delivery_link,
        )


class DeliveryHandler(PageHandler):
    async def get(self, delivery_id: str) -> None:
        endpoint_id = endpoint_of(self.get_argument("endpoint", None))
        pms, delivery, ambiguous = self.services.pms, None, None
        try:
            delivery = await pms.endpoint_delivery(endpoint_id, delivery_id)
        except ServiceNotFound:
            self.set_status(404)
        except ServiceRejected as exc:
            if exc.status == 409:  # a short id that several deliveries start with
                self.set_status(409)
                ambiguous = exc.message
            else:
                self.add_banner(
                    exc.service, f"The {exc.service} refused this request: {rejection_text(exc)}", level="warn"
                )
        except ServiceUnavailable as exc:
            self.add_banner(
                exc.service, f"The {exc.service} {exc.message}, so this delivery cannot be shown right now."
            )
        attempts = (delivery or {}).get("attempts") or []
        crm_event = None
        if delivery and endpoint_id == CRM_ENDPOINT:
            found = await self.fetch(self.services.crm.events(webhook_id=delivery["id"], limit=1))
            # Checked, not trusted: a CRM that does not know the filter lists every event.
            crm_event = next(
                (e for e in (found or {}).get("data") or [] if e.get("webhook_id") == delivery["id"]), None
            )
        self.render_page(
            "delivery.html",
            title=f"Delivery {delivery_id[:8]}",
            delivery=delivery,
            delivery_id=delivery_id,
            attempts=attempts,
            endpoint_id=endpoint_id,
            ambiguous=ambiguous,
            crm_event=crm_event,
            delivery_link=delivery_link,
            show_origin=any(a.get("trigger") or a.get("replayed_by") for a in attempts),
        )


class ReplayHandler(PageHandler):
    async def post(self, delivery_id: str) -> None:
        endpoint_id = endpoint_of(self.get_argument("endpoint", None))
        back = self.get_argument("next", None)
        try:
            if endpoint_id == CRM_ENDPOINT:
                await self.services.pms.replay(delivery_id, operator=self.current_user)
            else:
                await self.services.pms.endpoint_replay(endpoint_id, delivery_id, operator=self.current_user)
            self.flash(
                "good", f"Queued again: the PMS will send delivery {delivery_id[:8]} to endpoint {endpoint_id} shortly."
            )
        except ServiceNotFound:
            self.flash("bad", "The PMS has no such delivery (it may have been pruned).")
        except (ServiceUnavailable, ServiceRejected) as exc:
            self.flash("bad", f"Not replayed: the {exc.service} {exc.message}.")
        self.redirect(safe_next(back) if back else delivery_link(delivery_id, endpoint_id))


class BulkReplayHandler(PageHandler):
    """``POST /deliveries/replay-failed``: ``endpoint`` (the CRM unless given), ``since`` (every
    delivery created since then instead of the failed ones), ``confirm=1`` to act."""

    async def post(self) -> None:
        endpoint_id = endpoint_of(self.get_argument("endpoint", None))
        since = (self.get_argument("since", "") or "").strip() or None
        if since is not None and not _TIME.fullmatch(since):
            self.flash("bad", "Nothing replayed: “since” must be a date and time.")
            self.redirect(self.list_link(endpoint_id))
            return
        if self.get_argument("confirm", "") == "1":
            await self.replay(endpoint_id, since)
        else:
            await self.preview(endpoint_id, since)

    def list_link(self, endpoint_id: int, **filters: str) -> str:
        query = {**({"endpoint": str(endpoint_id)} if endpoint_id != CRM_ENDPOINT else {}), **filters}
        return "/deliveries" + ("?" + urlencode(query) if query else "")

    async def preview(self, endpoint_id: int, since: str | None) -> None:
        pms = self.services.pms
        chosen = {"since": since} if since else {"status": "failed"}
        if endpoint_id == CRM_ENDPOINT and not since:
            # The status route's counts are exact and every PMS serves them.
            counting = pms.status()
        else:
            counting = pms.endpoint_deliveries_count(endpoint_id, **chosen)
        counted, page = await asyncio.gather(
            self.fetch_optional(counting),  # an older PMS counts nothing: the rows say "or more"
            self.fetch(pms.endpoint_deliveries(endpoint_id, **chosen, limit=PREVIEW_ROWS)),
        )
        count = counted if isinstance(counted, int) else ((counted or {}).get("outbox") or {}).get("failed")
        rows = page.get("data") if page else None
        title = f"Replay every delivery since {since}" if since else "Replay all failed deliveries"
        self.render_page(
            "replay_preview.html",
            title=title,
            rows=rows,
            count=count,
            since=since,
            endpoint_id=endpoint_id,
            more=bool(page and page.get("next_cursor")),
            back=self.list_link(endpoint_id, **chosen),
            delivery_link=delivery_link,
        )

    async def replay(self, endpoint_id: int, since: str | None) -> None:
        pms = self.services.pms
        try:
            if endpoint_id == CRM_ENDPOINT and not since:
                count = await pms.replay_failed(operator=self.current_user)
            else:
                count = await pms.endpoint_replay_many(endpoint_id, operator=self.current_user, since=since)
            what = "deliver" + ("y" if count == 1 else "ies")
            if count:
                self.flash(
                    "good",
                    f"Queued again: {count} {'failed ' if not since else ''}{what}"
                    f"{f' created since {since}' if since else ''}.",
                )
            else:
                self.flash(
                    "muted",
                    "There were no failed deliveries to replay."
                    if not since
                    else f"There were no deliveries created since {since} to replay.",
                )
        except (ServiceUnavailable, ServiceRejected, ServiceNotFound) as exc:
            self.flash("bad", f"Nothing replayed: the {exc.service} {exc.message}.")
        self.redirect(self.list_link(endpoint_id))


default_handlers = [
    (r"/deliveries", DeliveriesHandler),
    (r"/deliveries/replay-failed", BulkReplayHandler),
    (r"/deliveries/" + DELIVERY_ID, DeliveryHandler),
    (r"/deliveries/" + DELIVERY_ID + r"/replay", ReplayHandler),
]
