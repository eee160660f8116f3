"""``/notifications``: the history of the PMS's operational notifications (an endpoint failing,
recovered or disabled, a delivery that gave up, reconciliation drift), filtered by type, paged.

An older PMS without notifications answers 404; the page then says so instead of failing.
"""

from __future__ import annotations

from ..clients import ServiceNotFound
from ..notices import NOTIFICATION_TYPES, describe
from .base import PageHandler


class NotificationsHandler(PageHandler):
    async def get(self) -> None:
        filters = self.list_args("type")
        page, unsupported = None, False
        try:
            page = await self.fetch(
                self.services.pms.notifications(**filters, cursor=self.get_argument("cursor", None), limit=50)
            )
        except ServiceNotFound:
            unsupported = True
            self.add_banner("PMS", "This PMS raises no notifications (it is older than this dashboard).", level="warn")
        rows = page.get("data") if page else None
        self.render_page(
            "notifications.html",
            title="Notifications",
            filters=filters,
            types=NOTIFICATION_TYPES,
            notifications=[{**n, "about": describe(n)} for n in rows] if rows is not None else None,
            older=self.older_link(page.get("next_cursor") if page else None, filters),
            unsupported=unsupported,
        )


default_handlers = [(r"/notifications", NotificationsHandler)]
