"""``GET /audit``: the audit log of operator actions, newest first (thin over services.audit)."""

from __future__ import annotations

from ..operators import parse_operator
from ..services import audit
from .base import PmsHandler


class AuditHandler(PmsHandler):
    route_name = "audit"

    async def get(self) -> None:
        page = self.page_request()
        # A name no operator can have would match nothing: say so instead of an empty list.
        operator = self.get_argument("operator", None) or None
        if operator is not None:
            operator = parse_operator(operator, field="operator")
        action = self.choice_argument("action", audit.ACTIONS)
        rows, cursor = await self.store.run(audit.list_entries, page, operator, action)
        self.write_list(rows, cursor)


default_handlers = [
    (r"/audit", AuditHandler),
]
