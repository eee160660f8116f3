"""``/webhooks/rejections``: the list of refused webhook requests (``?reason=`` filter), and
``/webhooks/rejections/summary``: their counts by reason and address over a recent window."""

from __future__ import annotations

from core.errors import ValidationError
from core.handlers import APIHandler

from ..services import rejections


class RejectionsHandler(APIHandler):
    route_name = "webhook_rejections"

    async def get(self) -> None:
        page = self.page_request()
        reason = self.get_argument("reason", None) or None
        rows, cursor = await self.store.run(rejections.list_rejections, page, reason, transaction=False)
        self.write_list(rows, cursor)


class RejectionsSummaryHandler(APIHandler):
    route_name = "webhook_rejections_summary"

    async def get(self) -> None:
        window = self.int_argument("window_seconds")
        if window is None:
            window = rejections.SUMMARY_WINDOW_SECONDS
        if not 1 <= window <= rejections.SUMMARY_MAX_WINDOW_SECONDS:
            raise ValidationError.single(
                "window_seconds", f"must be between 1 and {rejections.SUMMARY_MAX_WINDOW_SECONDS} (a week)"
            )
        reason = self.get_argument("reason", None) or None
        self.write_data(await self.store.run(rejections.summarise_rejections, window, reason, transaction=False))


default_handlers = [
    (r"/webhooks/rejections", RejectionsHandler),
    (r"/webhooks/rejections/summary", RejectionsSummaryHandler),
]
