"""``GET /sync/runs``: reconciliation runs, newest first (thin over ``sync.runs``).

The digest and manifest routes are the shared ones of ``core.sync_api``.
"""

from __future__ import annotations

from core.sync import KINDS

from ..sync import runs
from .base import PmsHandler


class SyncRunsHandler(PmsHandler):
    route_name = "sync_runs"

    async def get(self) -> None:
        page = self.page_request()
        kind = self.choice_argument("kind", KINDS)
        rows, cursor = await self.store.run(runs.list_runs, page, kind)
        self.write_list(rows, cursor)


default_handlers = [
    (r"/sync/runs", SyncRunsHandler),
]
