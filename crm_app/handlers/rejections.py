"""``/webhooks/rejections``: the list of refused webhook requests (``?reason=`` filter)."""

from __future__ import annotations

from core.handlers import APIHandler

from ..services import rejections


class RejectionsHandler(APIHandler):
    route_name = "webhook_rejections"

    async def get(self) -> None:
        page = self.page_request()
        reason = self.get_argument("reason", None) or None
        rows, cursor = await self.store.run(rejections.list_rejections, page, reason,
                                            transaction=False)
        self.write_list(rows, cursor)


default_handlers = [
    (r"/webhooks/rejections", RejectionsHandler),
]
