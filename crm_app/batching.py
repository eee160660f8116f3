"""Group commit: concurrent submissions coalesced into one unit of work on the ``Store``.

Requests ``await committer.submit(item)``; while a batch is being written, newly submitted
items queue up and go together in the next one, so under load one transaction (one commit,
one fsync) serves many requests, and a lone request is written at once. Each submitter is
answered only after its own batch has committed, with its own result or its own exception.
``unit(items)`` runs on an executor thread and returns one result (or exception) per item.
``on_commit(results)``, when given, is called on the IOLoop after each batch that committed
(the signal that feeds live subscriptions).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from core.db import Store

log = logging.getLogger("guestsync.crm.batching")


class Overloaded(Exception):
    """More items are queued than the committer accepts."""


class GroupCommitter:
    def __init__(
        self,
        store: Store,
        unit: Callable[[list], list | None],
        *,
        max_batch: int = 64,
        writers: int = 1,
        max_pending: int | None = None,
        transaction: bool = False,
        name: str = "batch",
        on_commit: Callable[[list], None] | None = None,
    ):
        self.store = store
        self.unit = unit
        self.max_batch = max_batch
        self.writers = writers
        self.max_pending = max_pending
        self.transaction = transaction
        self.name = name
        self.on_commit = on_commit
        self._queue: list[tuple[Any, asyncio.Future]] = []
        self._running = 0
        self._tasks: set[asyncio.Task] = set()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def submit(self, item: Any) -> asyncio.Future:
        """Queue ``item``; the returned future resolves after the batch holding it committed."""
        if self.max_pending is not None and len(self._queue) >= self.max_pending:
            raise Overloaded(f"{self.name}: {len(self._queue)} items already queued")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((item, future))
        if self._running < self.writers:
            self._running += 1
            task = loop.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return future

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Return once every queued item has been written (or after ``timeout`` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._write(batch)
        finally:
            self._running -= 1

    async def _write(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        items = [item for item, _ in batch]
        try:
            results = await self.store.run(self.unit, items, transaction=self.transaction)
        except Exception as exc:  # noqa: BLE001 - every submitter of the batch gets the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        if results is None:
            results = [None] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        if self.on_commit is not None:
            try:
                self.on_commit(results)
            except Exception:  # noqa: BLE001 - a listener's fault never fails the writers
                log.exception("%s: on_commit failed", self.name)
