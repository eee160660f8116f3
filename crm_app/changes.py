"""Committed changes, live: what the receiver just recorded, fanned out to in-process listeners.

The receiver's group committer calls ``ChangeFeed.committed(outcomes)`` after each batch that
committed. When anyone listens, the feed reads that batch's audit-log rows (one query) and,
for listeners of profile changes, the profiles they touched (one more), then offers them to
every listener in commit order. Each listener has a bounded queue: one that falls
``queue_size`` items behind is dropped (its ``on_overflow`` ends its client's connection), so a
slow client never holds memory or the receiver back. Listeners live in this process only;
each CRM process feeds the clients connected to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from core.db import Store

from .models import PROCESSED
from .services.events import events_by_webhook_ids
from .services.profiles import profiles_of_guests
from .services.receiver import DUPLICATE, Outcome

log = logging.getLogger("guestsync.crm.changes")

DEFAULT_QUEUE_SIZE = 256


class ClientTooSlow(Exception):
    """A listener fell more than its queue's size behind."""


class Listener:
    """One subscriber's filter and bounded queue."""

    def __init__(
        self,
        select: Callable[[list[dict], dict[int, dict]], list],
        size: int,
        on_overflow: Callable[[], None] | None,
        wants_profiles: bool = False,
    ):
        self.select = select
        self.wants_profiles = wants_profiles
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=size)
        self.on_overflow = on_overflow
        self.overflowed = False

    def offer(self, events: list[dict], profiles: dict[int, dict]) -> None:
        for item in self.select(events, profiles):
            if self.overflowed:
                return
            try:
                self.queue.put_nowait(item)
            except asyncio.QueueFull:
                self.overflowed = True
                log.warning("a live subscriber fell %d items behind; dropping it", self.queue.maxsize)
                if self.on_overflow is not None:
                    self.on_overflow()

    async def items(self) -> AsyncIterator:
        while True:
            if self.overflowed:
                raise ClientTooSlow()
            yield await self.queue.get()


class ChangeFeed:
    def __init__(self, store: Store, queue_size: int = DEFAULT_QUEUE_SIZE):
        self.store = store
        self.queue_size = queue_size
        self.listeners: set[Listener] = set()
        self._order = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()

    def committed(self, results: list) -> None:
        """The group committer's hook: ``results`` of one committed batch (duplicates changed
        nothing; exceptions were not committed)."""
        webhook_ids = [r.id for r in results if isinstance(r, Outcome) and r.status != DUPLICATE]
        if not webhook_ids or not self.listeners:
            return
        task = asyncio.get_running_loop().create_task(self._publish(webhook_ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, webhook_ids: list[str]) -> None:
        # The lock is FIFO: batches reach listeners in the order they committed.
        async with self._order:
            try:
                events = await self.store.run(events_by_webhook_ids, webhook_ids, transaction=False)
                profiles: dict[int, dict] = {}
                touched = sorted(changed_guests(events))
                if touched and any(listener.wants_profiles for listener in self.listeners):
                    profiles = await self.store.run(profiles_of_guests, touched, transaction=False)
            except Exception as exc:  # noqa: BLE001 - the webhooks stand; only live listeners miss them
                log.warning("could not read committed changes for live subscribers: %s", exc)
                return
            for listener in list(self.listeners):
                listener.offer(events, profiles)

    async def _listen(self, listener: Listener) -> AsyncIterator:
        self.listeners.add(listener)
        try:
            async for item in listener.items():
                yield item
        finally:
            self.listeners.discard(listener)

    def events(self, types: list[str] | None, on_overflow: Callable[[], None] | None) -> AsyncIterator[dict]:
        """Every newly recorded audit-log event (of ``types``, if given), oldest first."""
        wanted = set(types) if types else None

        def select(events: list[dict], _profiles: dict) -> list[dict]:
            return [e for e in events if wanted is None or e["type"] in wanted]

        return self._listen(Listener(select, self.queue_size, on_overflow))

    def profile_changes(self, guest_id: int | None, on_overflow: Callable[[], None] | None) -> AsyncIterator[dict]:
        """``{"guest_id", "profile"}`` for each guest (or just ``guest_id``) whose profile an
        applied event changed; ``profile`` is ``None`` once the guest was erased."""

        def select(events: list[dict], profiles: dict[int, dict]) -> list[dict]:
            return [
                {"guest_id": g, "profile": profiles.get(g)}
                for g in changed_guests(events)
                if guest_id is None or g == guest_id
            ]

        return self._listen(Listener(select, self.queue_size, on_overflow, wants_profiles=True))


def changed_guests(events: list[dict]) -> list[int]:
    """The guests whose profile the applied (not stale, not ignored) events changed, in order."""
    seen: dict[int, None] = {}
    for event in events:
        if event["status"] == PROCESSED and event.get("guest_id") is not None:
            seen.setdefault(event["guest_id"], None)
    return list(seen)
