"""``/rejections``: webhooks the CRM refused (a wrong secret shows up here first), filtered by
reason, with the last hour's counts grouped by reason and remote address on top."""

from __future__ import annotations

import asyncio

from .base import PageHandler

REASONS = (
    "invalid_signature",
    "timestamp_out_of_tolerance",
    "missing_header",
    "invalid_json",
    "validation_error",
    "unsupported_media_type",
    "payload_too_large",
)


class RejectionsHandler(PageHandler):
    async def get(self) -> None:
        filters = self.list_args("reason")
        crm = self.services.crm
        page, summary = await asyncio.gather(
            self.fetch(crm.rejections(**filters, cursor=self.get_argument("cursor", None), limit=50)),
            self.fetch_optional(crm.rejections_summary(**filters)),
        )
        self.render_page(
            "rejections.html",
            title="Rejected webhooks",
            rejections=page.get("data") if page else None,
            filters=filters,
            reasons=REASONS,
            summary=summary,
            older=self.older_link(page.get("next_cursor") if page else None, filters),
            paged=bool(self.get_argument("cursor", None)),
        )


default_handlers = [(r"/rejections", RejectionsHandler)]
