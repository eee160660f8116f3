"""The PMS's API handler base: who is acting (``X-Operator``), and writes that wake the worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.handlers import APIHandler
from core.validation import parse_utc_datetime

from ..operators import OPERATOR_HEADER, Actor, parse_operator

T = TypeVar("T")


class PmsHandler(APIHandler):
    def prepare(self):
        super().prepare()
        # Checked on every route, reads included, so a malformed name is refused the same way
        # wherever a client sends it, not only when an action happens to record it.
        self._operator = parse_operator(self.request.headers.get(OPERATOR_HEADER))

    @property
    def operator(self) -> str | None:
        """The ``X-Operator`` name (``None``: the caller named nobody)."""
        return self._operator

    @property
    def actor(self) -> Actor:
        """Who is behind this request, for services that record what they do (audit log)."""
        return Actor(self.operator, self.request_id)

    def time_argument(self, name: str):
        """An ISO 8601 time argument as naive UTC (``None`` when absent; 422 when malformed)."""
        raw = self.get_argument(name, None)
        return parse_utc_datetime(name, raw) if raw else None

    async def write_change(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a unit of work that queues outbox events; once it committed, wake the delivery
        worker of this process (if any) so the events go out now instead of at its next poll."""
        result = await self.store.run(fn, *args)
        wake = self.settings.get("wake_delivery")
        if wake is not None:
            wake()
        return result
