"""``GET /notifications``: operational events, newest first (thin over services.notifications)."""

from __future__ import annotations

from ..notifications.models import TYPES
from ..services import notifications
from .base import PmsHandler


class NotificationsHandler(PmsHandler):
    route_name = "notifications"

    async def get(self) -> None:
        page = self.page_request()
        kind = self.choice_argument("type", TYPES)
        rows, cursor = await self.store.run(notifications.list_notifications, page, kind)
        self.write_list(rows, cursor)


default_handlers = [(r"/notifications", NotificationsHandler)]
