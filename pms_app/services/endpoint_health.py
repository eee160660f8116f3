"""Every endpoint's health at a glance (``GET /endpoints/health``): what an operator looks at
first when deliveries go wrong.

Per endpoint: its breaker (the worst live worker's, as the status route), how many deliveries
are pending, held and failed, how old the oldest pending one is, and over the last hour how
many attempts were made, how many succeeded (2xx), and the median and 95th percentile of their
durations. The percentiles come from the newest ``LATENCY_SAMPLE`` attempts of that hour (all
of them on a quiet endpoint), so the cost of the page stays bounded on a busy one; the counts
are exact, counted for every endpoint of a page in one pass. Attempts are read through their
``started_at`` index, so only the last hour's rows are touched whatever the history holds.
"""

from __future__ import annotations

import datetime as dt

import peewee as pw

from core.db import iso, utcnow
from core.pagination import PageRequest, paginate

from ..endpoints.models import Endpoint
from ..models import DELIVERING, FAILED, HELD, PENDING, Delivery, DeliveryAttempt
from .deliveries import breaker_of

WINDOW = dt.timedelta(hours=1)
LATENCY_SAMPLE = 2000


def percentile(sorted_values: list[int], fraction: float) -> int | None:
    """The nearest-rank percentile of already sorted values (``None`` for none)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * fraction // 1))   # ceil, at least the first
    return sorted_values[int(rank) - 1]


def _counts(endpoint_id: int) -> dict[str, int]:
    counts = {PENDING: 0, DELIVERING: 0, HELD: 0, FAILED: 0}
    rows = (Delivery.select(Delivery.status, pw.fn.COUNT(Delivery.id))
            .where((Delivery.endpoint_id == endpoint_id) & Delivery.status.in_(tuple(counts)))
            .group_by(Delivery.status).tuples())
    counts.update(dict(rows))
    return counts


def _oldest_pending(endpoint_id: int) -> dt.datetime | None:
    """When the oldest delivery still waiting to go (pending or in flight) was created."""
    oldest = (Delivery.select(Delivery.created_at)
              .where((Delivery.endpoint_id == endpoint_id) & Delivery.status.in_((PENDING, DELIVERING)))
              .order_by(Delivery.id).limit(1).first())
    return oldest.created_at if oldest else None


def _attempts_since(since: dt.datetime, endpoint_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(attempts, succeeded) per endpoint since ``since``: one pass over that range of the
    ``started_at`` index for every endpoint of the page, not one per endpoint."""
    ok = (DeliveryAttempt.status_code >= 200) & (DeliveryAttempt.status_code < 300)
    rows = (DeliveryAttempt.select(Delivery.endpoint_id, pw.fn.COUNT(DeliveryAttempt.id),
                                   pw.fn.SUM(pw.Case(None, [(ok, 1)], 0)))
            .join(Delivery, on=(Delivery.id == DeliveryAttempt.delivery_id))
            .where((DeliveryAttempt.started_at >= since) & Delivery.endpoint_id.in_(endpoint_ids))
            .group_by(Delivery.endpoint_id).tuples())
    return {endpoint_id: (int(attempts or 0), int(succeeded or 0)) for endpoint_id, attempts, succeeded in rows}


def _last_hour(endpoint_id: int, since: dt.datetime, attempts: int, succeeded: int) -> dict:
    durations: list[int] = []
    if attempts:
        # Newest first along the started_at index, stopping at the sample's size.
        durations = sorted(d for (d,) in DeliveryAttempt.select(DeliveryAttempt.duration_ms)
                           .join(Delivery, on=(Delivery.id == DeliveryAttempt.delivery_id))
                           .where((DeliveryAttempt.started_at >= since) & (Delivery.endpoint_id == endpoint_id))
                           .order_by(DeliveryAttempt.started_at.desc()).limit(LATENCY_SAMPLE).tuples()
                           if d is not None)
    return {
        "attempts": attempts,
        "succeeded": succeeded,
        "failed": attempts - succeeded,
        "success_rate": round(succeeded / attempts, 4) if attempts else None,
        "p50_ms": percentile(durations, 0.50),
        "p95_ms": percentile(durations, 0.95),
    }


def health_of(endpoint: Endpoint, now: dt.datetime, attempts: tuple[int, int] = (0, 0)) -> dict:
    """One endpoint's health; ``attempts`` is its (attempts, succeeded) of the last hour."""
    oldest = _oldest_pending(endpoint.id)
    return {
        "endpoint_id": endpoint.id,
        "name": endpoint.name,
        "enabled": bool(endpoint.enabled),
        "disabled_reason": endpoint.disabled_reason,
        "breaker": breaker_of(endpoint.id),
        "deliveries": _counts(endpoint.id),
        "oldest_pending_at": iso(oldest),
        "oldest_pending_age_seconds": round(max((now - oldest).total_seconds(), 0.0), 3) if oldest else None,
        "last_hour": _last_hour(endpoint.id, now - WINDOW, *attempts),
        "last_success_at": iso(endpoint.last_success_at),
        "last_failure_at": iso(endpoint.last_failure_at),
    }


def list_health(page: PageRequest, now: dt.datetime | None = None) -> tuple[list[dict], str | None]:
    """One page of endpoints' health, in id order like ``GET /endpoints``."""
    now = now or utcnow()
    if page.after_id is None and not page.ascending:
        page = PageRequest(page.limit, 0, ascending=True)
    rows, cursor = paginate(Endpoint.select(), Endpoint.id, page)
    attempts = _attempts_since(now - WINDOW, [e.id for e in rows]) if rows else {}
    return [health_of(e, now, attempts.get(e.id, (0, 0))) for e in rows], cursor
