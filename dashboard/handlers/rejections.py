"""``/rejections``: webhooks the CRM refused (a wrong secret shows up here first)."""

from __future__ import annotations

from .base import PageHandler


class RejectionsHandler(PageHandler):
    async def get(self) -> None:
        page = await self.fetch(self.services.crm.rejections(cursor=self.get_argument("cursor", None), limit=50))
        self.render_page(
            "rejections.html", title="Rejected webhooks", rejections=page.get("data") if page else None,
            older=self.older_link(page.get("next_cursor") if page else None, {}),
            paged=bool(self.get_argument("cursor", None)),
        )


default_handlers = [(r"/rejections", RejectionsHandler)]
