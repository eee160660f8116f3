"""``/audit``: the operator actions the PMS recorded (who replayed what, when), filtered and paged.

An older PMS without the audit route answers 404; the page then says so in a banner instead of
failing.
"""

from __future__ import annotations

from ..clients import ServiceNotFound
from .base import PageHandler
from .deliveries import delivery_link

# What the PMS records; the filter offers these (the PMS refuses any other name).
ACTIONS = (
    "delivery.replay",
    "deliveries.replay_failed",
    "deliveries.recover",
    "endpoint.create",
    "endpoint.update",
    "endpoint.delete",
    "endpoint.rotate_secret",
    "endpoint.enable",
    "endpoint.disable",
    "endpoint.test",
)


class AuditHandler(PageHandler):
    async def get(self) -> None:
        filters = self.list_args("operator", "action")
        page, unsupported = None, False
        try:
            page = await self.fetch(
                self.services.pms.audit(**filters, cursor=self.get_argument("cursor", None), limit=50)
            )
        except ServiceNotFound:
            unsupported = True
            self.add_banner(
                "PMS",
                "This PMS keeps no audit log of operator actions (it is older than this "
                "dashboard); upgrade it to see who replayed what.",
                level="warn",
            )
        self.render_page(
            "audit.html",
            title="Audit log",
            filters=filters,
            entries=page.get("data") if page else None,
            older=self.older_link(page.get("next_cursor") if page else None, filters),
            unsupported=unsupported,
            actions=ACTIONS,
            delivery_link=delivery_link,
        )


default_handlers = [(r"/audit", AuditHandler)]
