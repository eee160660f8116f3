"""``/``: outbox counts, breaker state, the last hour's deliveries chart, newest events and deliveries."""

from __future__ import annotations

import asyncio
import datetime as dt

from ..chart import WINDOW_MINUTES, chart_geometry, minute_series, parse_time
from ..clients import PmsClient, ServiceNotFound
from .base import PageHandler

CHART_PAGE = 500
CHART_MAX_PAGES = 4
RECENT_REJECTION = dt.timedelta(minutes=15)


async def delivered_last_hour(pms: PmsClient, now: dt.datetime) -> list[dict]:
    """Delivered outbox events of the last hour, newest first (at most a few pages)."""
    since = now - dt.timedelta(minutes=WINDOW_MINUTES)
    rows: list[dict] = []
    params = {"status": "delivered", "limit": CHART_PAGE}
    for _ in range(CHART_MAX_PAGES):
        page = await pms.deliveries(**params)
        data = page.get("data") or []
        rows += data
        oldest = parse_time(data[-1].get("created_at")) if data else None
        if not page.get("next_cursor") or oldest is None or oldest < since:
            break
        params = {"status": "delivered", "limit": CHART_PAGE, "cursor": page["next_cursor"]}
    return rows


async def breaker_history(pms: PmsClient, limit: int = 3) -> list | None:
    """The newest breaker state changes; ``None`` from a PMS that keeps no history."""
    try:
        return (await pms.breaker_transitions(limit=limit)).get("data")
    except ServiceNotFound:
        return None


class OverviewHandler(PageHandler):
    async def get(self) -> None:
        pms, crm = self.services.pms, self.services.crm
        now = dt.datetime.now(dt.timezone.utc)
        status, transitions, delivered, recent, events, rejections = await asyncio.gather(
            self.fetch(pms.status()),
            self.fetch(breaker_history(pms)),
            self.fetch(delivered_last_hour(pms, now)),
            self.fetch(pms.deliveries(limit=10)),
            self.fetch(crm.events(limit=15)),
            self.fetch(crm.rejections(limit=1)),
        )
        chart = None
        if delivered is not None:
            series, p50 = minute_series(delivered, now)
            chart = chart_geometry(series, p50)
        latest = ((rejections or {}).get("data") or [None])[0]
        recent_rejection = None
        if latest and (received := parse_time(latest.get("received_at"))) and now - received < RECENT_REJECTION:
            recent_rejection = latest
        self.render_page(
            "overview.html", title="Overview", status=status, chart=chart, recent_rejection=recent_rejection,
            transitions=transitions,
            deliveries=(recent or {}).get("data") if recent is not None else None,
            events=(events or {}).get("data") if events is not None else None,
        )


default_handlers = [(r"/", OverviewHandler)]
