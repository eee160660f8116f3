"""Readiness: is this process fit to take traffic? ``GET|HEAD {base}/ready`` and its check.

Health (``/health``) says the process runs and its database answers; readiness adds that the
schema is the one the code expects: every migration of the service applied. The body names
what is missing, so a failing probe explains itself (docs/operations.md, "Readiness, health and metrics").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import peewee

from .db import DatabaseUnavailable, Store
from .handlers import APIHandler
from .migrations import pending_migrations

log = logging.getLogger("guestsync.readiness")


@dataclass(frozen=True)
class Readiness:
    database_ok: bool
    pending: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.database_ok and not self.pending

    @property
    def message(self) -> str:
        # The driver's error (it may name internal hosts) stays out of the message: the probe
        # answers anyone. It is logged, and the command line shows it (``error``).
        if not self.database_ok:
            return "the database is unavailable"
        if self.pending:
            return f"{len(self.pending)} migration(s) pending: {', '.join(self.pending)}"
        return "ready"

    def body(self, service: str) -> dict:
        return {
            "status": "ready" if self.ready else "not_ready",
            "service": service,
            "database": "ok" if self.database_ok else "unavailable",
            "pending_migrations": list(self.pending),
            "message": self.message,
        }


def check_readiness_sync(store: Store, migrations: str) -> Readiness:
    """The check on the calling thread (start-up, command line); ``check_readiness`` off the loop."""
    try:
        pending = store.call(pending_migrations, store.database, migrations, transaction=False)
    except (DatabaseUnavailable, peewee.PeeweeException) as exc:
        # Any database error means "not fit for traffic"; the reason is kept for the answer.
        return Readiness(database_ok=False, error=_one_line(exc))
    return Readiness(database_ok=True, pending=tuple(pending))


async def check_readiness(store: Store, migrations: str) -> Readiness:
    """The same check on the store's executor, for request handlers; a failure is logged."""
    readiness = await asyncio.get_running_loop().run_in_executor(
        store.executor, check_readiness_sync, store, migrations
    )
    if not readiness.database_ok:
        log.warning("readiness: database check failed: %s", readiness.error)
    return readiness


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


class ReadyHandler(APIHandler):
    """200 when ready, else 503; the body is bare like ``/health``'s, never behind the token."""

    requires_auth = False
    rate_limited = False  # probes must keep answering whatever clients do
    route_name = "ready"

    async def get(self) -> None:
        readiness = await check_readiness(self.store, self.settings.get("migrations") or self.settings["service"])
        self.write_json(readiness.body(self.settings["service"]), 200 if readiness.ready else 503)

    async def head(self) -> None:
        await self.get()
