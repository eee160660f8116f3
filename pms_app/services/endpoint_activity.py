"""Every endpoint's activity over the last hour, in one read: what the dashboard's overview
shows and its live feed polls every interval (``GET /endpoints/activity``).

For each endpoint, what its health item shows (its breaker as the status route's, worst live
worker; its pending, in-flight, held and failed deliveries; when its oldest waiting delivery was
created; its attempts of the last hour: how many succeeded (a 2xx) and failed, the success rate,
the median and 95th percentile of their durations) and the same attempts per minute, oldest
first. ``overall`` sums every endpoint (its percentiles over every attempt, not averaged).

The attempts are read through the (started_at) index of ``delivery_attempt``, and the minutes
that can no longer change are kept (``AttemptMinutes``), so a read of the hour costs the last
few minutes' attempts, never the hour's or the history's. Percentiles are nearest-rank: the
smallest duration with at least p% of the durations at or below it.
"""

from __future__ import annotations

import datetime as dt
import math
import threading

import peewee as pw

from core.db import iso, utcnow

from ..delivery.breaker import SEVERITY
from ..endpoints.models import Endpoint
from ..models import DELIVERING, FAILED, HELD, PENDING, BreakerState, Delivery, DeliveryAttempt
from .deliveries import WORKER_LIVE_SECONDS

WINDOW_MINUTES = 60
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

    def merge(self, other: Tally) -> None:
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
            points.append({"at": iso(self.first + dt.timedelta(minutes=i)), "delivered": point["succeeded"],
                           "failed": point["failed"], "p50_ms": point["p50_ms"], "p95_ms": point["p95_ms"]})
        return points


def _is_ok(status_code: int | None, error: str | None) -> bool:
    return status_code is not None and 200 <= status_code < 300 and not error


def _counts(endpoint_id: int) -> dict[str, int]:
    """Deliveries not delivered yet, by status, from the (endpoint_id, status, id) index."""
    counts = {PENDING: 0, DELIVERING: 0, HELD: 0, FAILED: 0}
    rows = (Delivery.select(Delivery.status, pw.fn.COUNT(Delivery.id))
            .where((Delivery.endpoint_id == endpoint_id) & Delivery.status.in_(tuple(counts)))
            .group_by(Delivery.status).tuples())
    counts.update(dict(rows))
    return counts


def _breaker(endpoint_id: int, now: dt.datetime) -> dict:
    """The endpoint's breaker as the status route shows it: the worst live worker's."""
    cutoff = now - dt.timedelta(seconds=WORKER_LIVE_SECONDS)
    rows = list(BreakerState.select()
                .where((BreakerState.endpoint == str(endpoint_id)) & (BreakerState.updated_at >= cutoff))
                .order_by(BreakerState.worker_id))
    worst = max(rows, key=lambda r: (SEVERITY.get(r.state, 0), r.failure_count), default=None)
    return {"state": worst.state if worst else "closed", "failure_count": worst.failure_count if worst else 0,
            "opened_at": iso(worst.opened_at) if worst else None,
            "workers": [{"worker_id": r.worker_id, "state": r.state, "failure_count": r.failure_count,
                         "opened_at": iso(r.opened_at), "updated_at": iso(r.updated_at)} for r in rows]}


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
    rows = []
    oldest_overall: dt.datetime | None = None
    for endpoint in endpoints:
        oldest = _oldest_waiting(endpoint.id)
        if oldest is not None and (oldest_overall is None or oldest < oldest_overall):
            oldest_overall = oldest
        window = per_endpoint[endpoint.id]
        rows.append({
            "endpoint_id": endpoint.id,
            "name": endpoint.name,
            "enabled": bool(endpoint.enabled),
            "disabled_reason": endpoint.disabled_reason,
            "breaker": _breaker(endpoint.id, now),
            "deliveries": _counts(endpoint.id),
            "oldest_pending_at": iso(oldest),
            "oldest_pending_age_seconds": _age(oldest, now),
            "last_hour": window.window.summary(),
            "last_success_at": iso(endpoint.last_success_at),
            "last_failure_at": iso(endpoint.last_failure_at),
            "minutes": window.minutes(),
        })
    return {"generated_at": iso(now),
            "overall": {"oldest_pending_at": iso(oldest_overall),
                        "oldest_pending_age_seconds": _age(oldest_overall, now),
                        "last_hour": overall.window.summary(), "minutes": overall.minutes()},
            "endpoints": rows}


def _age(since: dt.datetime | None, now: dt.datetime) -> float | None:
    return round(max((now - since).total_seconds(), 0.0), 3) if since else None
