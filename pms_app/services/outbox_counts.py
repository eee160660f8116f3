"""Delivery counts by status for one endpoint's status route, at a bounded cost however large
the history grows.

The keys are those of part one's status route (``held`` deliveries are listed by status, not
counted here). ``pending``, ``delivering`` and ``failed`` are small sets read exactly through
the (endpoint_id, status, id) index on every call. ``delivered`` holds up to
``OUTBOX_RETENTION_DAYS`` of history (millions of rows on a busy hotel), and the dashboard asks
every second: it is counted exactly while it is below ``exact_limit`` rows, and past that
re-counted at most every ``max_age`` seconds, per endpoint.
"""

from __future__ import annotations

import threading
import time

import peewee as pw

from ..models import CRM_ENDPOINT_ID, DELIVERED, DELIVERING, FAILED, OUTBOX_STATUSES, PENDING, Delivery


class OutboxCounts:
    def __init__(self, exact_limit: int = 50_000, max_age: float = 30.0, clock=time.monotonic):
        self.exact_limit = exact_limit
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()
        self._delivered: dict[int, tuple[float, int]] = {}  # endpoint -> (counted at, count)

    def read(self, endpoint_id: int = CRM_ENDPOINT_ID) -> dict[str, int]:
        """Counts by status; runs inside a unit of work on a database thread."""
        counts = {status: 0 for status in OUTBOX_STATUSES}
        small = (
            Delivery.select(Delivery.status, pw.fn.COUNT(Delivery.id))
            .where((Delivery.endpoint_id == endpoint_id) & Delivery.status.in_((PENDING, DELIVERING, FAILED)))
            .group_by(Delivery.status)
            .tuples()
        )
        counts.update(dict(small))
        counts[DELIVERED] = self._delivered_count(endpoint_id)
        return counts

    def _delivered_count(self, endpoint_id: int) -> int:
        delivered = Delivery.select(Delivery.id).where(
            (Delivery.endpoint_id == endpoint_id) & (Delivery.status == DELIVERED)
        )
        bounded = delivered.limit(self.exact_limit + 1).count()
        if bounded <= self.exact_limit:
            return bounded
        with self._lock:
            cached = self._delivered.get(endpoint_id)
        if cached is not None and self.clock() - cached[0] < self.max_age:
            return cached[1]
        count = delivered.count()
        with self._lock:
            self._delivered[endpoint_id] = (self.clock(), count)
        return count
