"""``/``: what an operator needs first. Endpoint 1's breaker and counts, every endpoint's health
tile, the oldest waiting delivery, the last hour's chart (delivered and failed attempts per
minute, p50/p95 latency), the last reconciliation run, recent notifications, and the newest
events and deliveries.

Everything is rendered on the server, so the page is complete without a script; the live
feed then keeps it current in place (``static/dashboard.js``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from ..chart import LAYOUT, chart_geometry, chart_points, parse_time
from ..clients import PmsClient, ServiceNotFound
from .base import PageHandler

RECENT_REJECTION = dt.timedelta(minutes=15)
RECENT_NOTIFICATIONS = 8


async def breaker_history(pms: PmsClient, limit: int = 3) -> list | None:
    """The newest breaker state changes; ``None`` from a PMS that keeps no history."""
    try:
        return (await pms.breaker_transitions(limit=limit)).get("data")
    except ServiceNotFound:
        return None


async def optional(coro) -> dict | None:
    """A read a PMS of an older release cannot answer (404): shown as absent, not as an outage."""
    try:
        return await coro
    except ServiceNotFound:
        return None


class OverviewHandler(PageHandler):
    async def get(self) -> None:
        pms, crm = self.services.pms, self.services.crm
        now = dt.datetime.now(dt.UTC)
        (status, transitions, activity, recent, events, rejections, runs, notifications) = await asyncio.gather(
            self.fetch(pms.status()),
            self.fetch(breaker_history(pms)),
            self.fetch(optional(pms.endpoints_activity())),
            self.fetch(pms.deliveries(limit=10)),
            self.fetch(crm.events(limit=15)),
            self.fetch(crm.rejections(limit=1)),
            self.fetch(optional(pms.sync_runs(limit=1))),
            self.fetch(optional(pms.notifications(limit=RECENT_NOTIFICATIONS))),
        )
        overall = (activity or {}).get("overall") or {}
        points = chart_points(overall.get("minutes")) if activity else []
        chart = chart_geometry(points) if activity else None
        latest = ((rejections or {}).get("data") or [None])[0]
        recent_rejection = None
        if latest and (received := parse_time(latest.get("received_at"))) and now - received < RECENT_REJECTION:
            recent_rejection = latest
        self.render_page(
            "overview.html",
            title="Overview",
            status=status,
            chart=chart,
            recent_rejection=recent_rejection,
            transitions=transitions,
            activity=activity,
            overall=overall,
            tiles=(activity or {}).get("endpoints") or [],
            chart_json=json.dumps({"layout": LAYOUT, "points": points}, separators=(",", ":")),
            sync_run=((runs or {}).get("data") or [None])[0],
            runs_known=runs is not None,
            notifications=(notifications or {}).get("data") if notifications is not None else None,
            deliveries=(recent or {}).get("data") if recent is not None else None,
            events=(events or {}).get("data") if events is not None else None,
        )


default_handlers = [(r"/", OverviewHandler)]
