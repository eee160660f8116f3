"""Every endpoint's health over a recent window, in one read: what the dashboard's overview
tiles and live chart show.

For each endpoint: its breaker (the status route's, worst live worker), its deliveries by
status (``held`` included), when its oldest waiting delivery (pending or in flight) was
created, and its attempts of the last ``minutes`` minutes: how many succeeded (a 2xx) and
failed, the success rate, and the median and 95th percentile of their durations, overall and
per minute. ``overall`` sums the endpoints (percentiles over every attempt, not averaged).

The attempts are read through the (started_at) index of ``delivery_attempt``, and the minutes
that can no longer change are kept (``AttemptMinutes``), so a read of the hour costs the last
few minutes' attempts, never the hour's or the history's; the counts read the
(endpoint_id, status, id) index. Percentiles are nearest-rank: the smallest duration with at
least p% of the durations at or below it.
"""

from __future__ import annotations

import datetime as dt
import math
import threading

import peewee as pw

from core.db import iso, utcnow

from ..endpoints.models import Endpoint
from ..models import DELIVERING, HELD, PENDING, Delivery, DeliveryAttempt
from .deliveries import webhook_status
from .outbox_counts import OutboxCounts

MAX_WINDOW_MINUTES = 60
MAX_ENDPOINTS = 200


def nearest_rank(ordered: list[int], pct: float) -> int | None:
    """The nearest-rank percentile of an ascending list (``None`` when empty)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


class Tally:
    """Attempts of one endpoint (or all of them) in one window or one minute."""

    __slots__ = ("succeeded", "failed", "durations")

    def __init__(self):
        self.succeeded = 0
        self.failed = 0
        self.durations: list[int] = []

    def add(self, ok: bool, duration_ms: int | None) -> None:
        if ok:
            self.succeeded += 1
        else:
            self.failed += 1
        if duration_ms is not None:
            self.durations.append(duration_ms)

    def merge(self, other: "Tally") -> None:
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.durations += other.durations

    def summary(self) -> dict:
        ordered = sorted(self.durations)
        attempts = self.succeeded + self.failed
        return {"attempts": attempts, "succeeded": self.succeeded, "failed": self.failed,
                "success_rate": round(self.succeeded / attempts, 4) if attempts else None,
                "p50_ms": nearest_rank(ordered, 50), "p95_ms": nearest_rank(ordered, 95)}


# minute start -> endpoint id -> its attempts that started in that minute
Minutes = dict[dt.datetime, dict[int, Tally]]
ALL = 0   # the key of every endpoint's attempts together (endpoint ids start at 1)


def _read_minutes(start: dt.datetime, end: dt.datetime | None) -> Minutes:
    """Tally the attempts that started in [start, end) by minute and endpoint, in one query."""
    query = (DeliveryAttempt
             .select(Delivery.endpoint_id, DeliveryAttempt.started_at, DeliveryAttempt.status_code,
                     DeliveryAttempt.duration_ms, DeliveryAttempt.error)
             .join(Delivery, on=(DeliveryAttempt.delivery_id == Delivery.id))
             .where(DeliveryAttempt.started_at >= start))
    if end is not None:
        query = query.where(DeliveryAttempt.started_at < end)
    found: Minutes = {}
    for endpoint_id, started_at, status_code, duration_ms, error in query.tuples():
        if isinstance(started_at, str):  # SQLite hands back the stored text for a joined tuple
            started_at = DeliveryAttempt.started_at.python_value(started_at)
        minute = started_at.replace(second=0, microsecond=0)
        ok = _is_ok(status_code, error)
        by_endpoint = found.setdefault(minute, {})
        by_endpoint.setdefault(endpoint_id, Tally()).add(ok, duration_ms)
        by_endpoint.setdefault(ALL, Tally()).add(ok, duration_ms)
    return found


class AttemptMinutes:
    """The per-minute tallies of minutes that can no longer change, kept between reads.

    An attempt is written when it ends, with the time it started, so a minute is settled once
    the longest attempt timeout (plus a margin) has passed since it ended. Each read then
    queries only the unsettled minutes (and, once, any settled minute not seen yet): the dashboard
    asks for the whole hour every second without reading the hour's attempts every second. One
    per process; the handlers share it through the application's settings.
    """

    MARGIN_SECONDS = 30.0

    def __init__(self):
        self._lock = threading.Lock()
        self._settled: Minutes = {}

    def read(self, first: dt.datetime, minutes: int, now: dt.datetime, longest_timeout: float) -> Minutes:
        settle = dt.timedelta(seconds=longest_timeout + self.MARGIN_SECONDS)
        boundary = (now - settle - dt.timedelta(minutes=1)).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        wanted = [first + dt.timedelta(minutes=i) for i in range(minutes)]
        with self._lock:
            known = {m: self._settled[m] for m in wanted if m in self._settled}
        missing = [m for m in wanted if m < boundary and m not in known]
        found: Minutes = dict(known)
        if missing:
            fresh = _read_minutes(missing[0], boundary)
            settled = {m: fresh.get(m, {}) for m in missing}
            found.update(settled)
            with self._lock:
                self._settled.update(settled)
                for old in [m for m in self._settled if m < now - dt.timedelta(minutes=2 * MAX_WINDOW_MINUTES)]:
                    del self._settled[old]
        if wanted[-1] >= boundary:
            found.update(_read_minutes(max(first, boundary), None))
        return found


class Series:
    """One tally for the window and one per minute, oldest minute first."""

    def __init__(self, first_minute: dt.datetime, minutes: int):
        self.first = first_minute
        self.window = Tally()
        self.per_minute = [Tally() for _ in range(minutes)]

    def add(self, minute: dt.datetime, tally: Tally) -> None:
        index = int((minute - self.first).total_seconds() // 60)
        if 0 <= index < len(self.per_minute):
            self.window.merge(tally)
            self.per_minute[index].merge(tally)

    def to_api(self) -> dict:
        minutes = []
        for i, tally in enumerate(self.per_minute):
            point = tally.summary()
            minutes.append({"at": iso(self.first + dt.timedelta(minutes=i)), "delivered": point["succeeded"],
                            "failed": point["failed"], "p50_ms": point["p50_ms"], "p95_ms": point["p95_ms"]})
        return {**self.window.summary(), "minutes": minutes}


def _is_ok(status_code: int | None, error: str | None) -> bool:
    return status_code is not None and 200 <= status_code < 300 and not error


def _held(endpoint_id: int) -> int:
    return (Delivery.select(Delivery.id)
            .where((Delivery.endpoint_id == endpoint_id) & (Delivery.status == HELD)).count())


def _oldest_waiting(endpoint_id: int) -> dt.datetime | None:
    """When the endpoint's oldest pending or in-flight delivery was created (ids grow with time,
    so the smallest id per status is read from the index and compared)."""
    firsts = [Delivery.select(pw.fn.MIN(Delivery.id))
              .where((Delivery.endpoint_id == endpoint_id) & (Delivery.status == status)).scalar()
              for status in (PENDING, DELIVERING)]
    ids = [i for i in firsts if i is not None]
    if not ids:
        return None
    return Delivery.select(Delivery.created_at).where(Delivery.id == min(ids)).scalar()


def endpoints_health(counts: OutboxCounts, history: AttemptMinutes, default_timeout: float,
                     minutes: int = MAX_WINDOW_MINUTES, now: dt.datetime | None = None) -> dict:
    """The window ends with the current (partial) minute; runs inside a unit of work.
    ``default_timeout`` is the attempt timeout of endpoints that set none."""
    minutes = max(1, min(MAX_WINDOW_MINUTES, minutes))
    now = now or utcnow()
    first = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=minutes - 1)
    endpoints = list(Endpoint.select().order_by(Endpoint.id).limit(MAX_ENDPOINTS))
    longest = max([e.timeout_seconds or default_timeout for e in endpoints] + [default_timeout])
    overall = Series(first, minutes)
    per_endpoint = {e.id: Series(first, minutes) for e in endpoints}
    for minute, by_endpoint in history.read(first, minutes, now, longest).items():
        for endpoint_id, tally in by_endpoint.items():
            series = overall if endpoint_id == ALL else per_endpoint.get(endpoint_id)
            if series is not None:
                series.add(minute, tally)
    rows = []
    oldest_overall: dt.datetime | None = None
    for endpoint in endpoints:
        status = webhook_status(endpoint.id, counts)
        oldest = _oldest_waiting(endpoint.id)
        if oldest is not None and (oldest_overall is None or oldest < oldest_overall):
            oldest_overall = oldest
        rows.append({
            "endpoint": {"id": endpoint.id, "name": endpoint.name, "enabled": bool(endpoint.enabled),
                         "disabled_reason": endpoint.disabled_reason, "disabled_at": iso(endpoint.disabled_at)},
            "breaker": status["breaker"],
            "counts": {**status["outbox"], HELD: _held(endpoint.id)},
            "oldest_pending_at": iso(oldest),
            "last_success_at": status["last_success_at"],
            "last_failure_at": status["last_failure_at"],
            **per_endpoint[endpoint.id].to_api(),
        })
    return {"window_minutes": minutes, "generated_at": iso(now),
            "overall": {"oldest_pending_at": iso(oldest_overall), **overall.to_api()},
            "endpoints": rows}
