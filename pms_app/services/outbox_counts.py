"""Outbox counts by status for the status route, at a bounded cost however large the outbox grows.

``pending``, ``delivering`` and ``failed`` are small sets read exactly through the status
index on every call. ``delivered`` holds up to ``OUTBOX_RETENTION_DAYS`` of history (millions
of rows on a busy hotel), and the dashboard asks every second: it is counted exactly while it
is below ``exact_limit`` rows, and past that re-counted at most every ``max_age`` seconds.
"""

from __future__ import annotations

import threading
import time

import peewee as pw

from ..models import DELIVERED, DELIVERING, FAILED, OUTBOX_STATUSES, PENDING, OutboxEvent


class OutboxCounts:
    def __init__(self, exact_limit: int = 50_000, max_age: float = 30.0, clock=time.monotonic):
        self.exact_limit = exact_limit
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()
        self._delivered: tuple[float, int] | None = None   # (counted at, count)

    def read(self) -> dict[str, int]:
        """Counts by status; runs inside a unit of work on a database thread."""
        counts = {status: 0 for status in OUTBOX_STATUSES}
        small = (OutboxEvent.select(OutboxEvent.status, pw.fn.COUNT(OutboxEvent.seq))
                 .where(OutboxEvent.status.in_((PENDING, DELIVERING, FAILED)))
                 .group_by(OutboxEvent.status).tuples())
        counts.update(dict(small))
        counts[DELIVERED] = self._delivered_count()
        return counts

    def _delivered_count(self) -> int:
        delivered = OutboxEvent.select(OutboxEvent.seq).where(OutboxEvent.status == DELIVERED)
        bounded = delivered.limit(self.exact_limit + 1).count()
        if bounded <= self.exact_limit:
            return bounded
        with self._lock:
            cached = self._delivered
        if cached is not None and self.clock() - cached[0] < self.max_age:
            return cached[1]
        count = delivered.count()
        with self._lock:
            self._delivered = (self.clock(), count)
        return count
