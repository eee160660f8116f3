"""Every endpoint's activity over the last hour, in one read: what the dashboard's overview
shows and its live feed polls every interval (``GET /endpoints/activity``).

For each endpoint, what its health item shows, read through the same figures
(``endpoint_health``: breaker, delivery counts, oldest delivery not yet delivered, the last
hour's summary), and the same attempts per minute, oldest first. ``overall`` sums every endpoint
(its percentiles over every attempt, not averaged).

The attempts are read through the (started_at) index of ``delivery_attempt``, and the minutes
that can no longer change are kept (``AttemptMinutes``), so a read of the hour costs the last
few minutes' attempts, never the hour's or the history's: unlike the health page, every
duration of the hour is kept, since the per-minute series needs them anyway.
"""

from __future__ import annotations

import datetime as dt
import threading

from core.db import iso, utcnow

from ..endpoints.models import Endpoint
from ..models import Delivery, DeliveryAttempt
from .endpoint_health import age_seconds, delivery_counts, health_item, is_success, last_hour, oldest_undelivered

WINDOW_MINUTES = 60
MAX_ENDPOINTS = 200


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

    def merge(self, other: Tally) -> None:
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.durations += other.durations

    def summary(self) -> dict:
        return last_hour(self.succeeded + self.failed, self.succeeded, self.durations)


# minute start -> endpoint id -> its attempts that started in that minute
Minutes = dict[dt.datetime, dict[int, Tally]]
ALL = 0  # the key of every endpoint's attempts together (endpoint ids start at 1)


def _read_minutes(start: dt.datetime, end: dt.datetime | None) -> Minutes:
    """Tally the attempts that started in [start, end) by minute and endpoint, in one query."""
    query = (
        DeliveryAttempt.select(
            Delivery.endpoint_id, DeliveryAttempt.started_at, DeliveryAttempt.status_code, DeliveryAttempt.duration_ms
        )
        .join(Delivery, on=(DeliveryAttempt.delivery_id == Delivery.id))
        .where(DeliveryAttempt.started_at >= start)
    )
    if end is not None:
        query = query.where(DeliveryAttempt.started_at < end)
    found: Minutes = {}
    for endpoint_id, started_at, status_code, duration_ms in query.tuples():
        if isinstance(started_at, str):  # SQLite hands back the stored text for a joined tuple
            started_at = DeliveryAttempt.started_at.python_value(started_at)
        minute = started_at.replace(second=0, microsecond=0)
        ok = is_success(status_code)
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
                for old in [m for m in self._settled if m < now - dt.timedelta(minutes=2 * WINDOW_MINUTES)]:
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

    def minutes(self) -> list[dict]:
        points = []
        for i, tally in enumerate(self.per_minute):
            point = tally.summary()
            points.append(
                {
                    "at": iso(self.first + dt.timedelta(minutes=i)),
                    "delivered": point["succeeded"],
                    "failed": point["failed"],
                    "p50_ms": point["p50_ms"],
                    "p95_ms": point["p95_ms"],
                }
            )
        return points


def endpoints_activity(history: AttemptMinutes, default_timeout: float, now: dt.datetime | None = None) -> dict:
    """The last hour, ending with the current (partial) minute; runs inside a unit of work.
    ``default_timeout`` is the attempt timeout of endpoints that set none."""
    now = now or utcnow()
    minutes = WINDOW_MINUTES
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
    ids = [e.id for e in endpoints]
    counts = delivery_counts(ids)
    oldest_of = oldest_undelivered(ids)
    oldest_overall = min(oldest_of.values(), default=None)
    rows = []
    for endpoint in endpoints:
        window = per_endpoint[endpoint.id]
        item = health_item(endpoint, counts[endpoint.id], oldest_of.get(endpoint.id), window.window.summary(), now)
        rows.append({**item, "minutes": window.minutes()})
    return {
        "generated_at": iso(now),
        "overall": {
            "oldest_pending_at": iso(oldest_overall),
            "oldest_pending_age_seconds": age_seconds(oldest_overall, now),
            "last_hour": overall.window.summary(),
            "minutes": overall.minutes(),
        },
        "endpoints": rows,
    }
