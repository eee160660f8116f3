"""``GET|HEAD {base}/health``: 200 when the database answers, 503 while it does not
(docs/operations.md, "Readiness, health and metrics")."""

from __future__ import annotations

from .db import DatabaseUnavailable, Store
from .handlers import APIHandler


class HealthHandler(APIHandler):
    requires_auth = False
    rate_limited = False  # probes must keep answering whatever clients do
    route_name = "health"

    async def get(self) -> None:
        ok = await database_answers(self.store)
        self.write_json(
            {
                "status": "ok" if ok else "unavailable",
                "service": self.settings["service"],
                "database": "ok" if ok else "unavailable",
            },
            200 if ok else 503,
        )

    async def head(self) -> None:
        # Load balancers and uptime checkers often probe with HEAD; Tornado sends the headers only.
        await self.get()


async def database_answers(store: Store) -> bool:
    try:
        await store.run(lambda: store.database.execute_sql("SELECT 1").fetchone(), transaction=False)
        return True
    except DatabaseUnavailable:
        return False
