"""The PMS's API handler base: writes that queue outbox events nudge the in-process worker."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from core.handlers import APIHandler

T = TypeVar("T")


class PmsHandler(APIHandler):
    async def write_change(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a unit of work that queues outbox events; once it committed, wake the delivery
        worker of this process (if any) so the events go out now instead of at its next poll."""
        result = await self.store.run(fn, *args)
        wake = self.settings.get("wake_delivery")
        if wake is not None:
            wake()
        return result
