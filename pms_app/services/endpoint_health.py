"""An endpoint's health figures, each defined and read in one place, and every endpoint's health
at a glance (``GET /endpoints/health``): what an operator looks at first when deliveries go wrong.

The same figures feed the dashboard's overview (``endpoint_activity``), ``python -m pms_app
status`` and the delivery gauges of the metrics, so a number means the same thing wherever it
is shown:

- ``delivery_counts``: deliveries pending, in flight (``delivering``), held and failed, by
  status, counted through the (endpoint_id, status, id) index for every endpoint asked in one
  query.
- ``oldest_undelivered``: the oldest delivery not yet delivered, that is ``pending`` (waiting for
  its first attempt or a retry) or ``delivering`` (in flight), and when it was queued (its
  ``created_at``). Held deliveries (kept for a disabled endpoint) are not waiting to go and do
  not count. Ids grow with time, so it is the lowest id of either status: two index seeks per
  endpoint whatever the backlog, all endpoints in one query.
- ``breaker_of``: the endpoint's breaker as the status route shows it, the worst live worker's.
- ``attempts_since``: attempts started since a time and how many succeeded (a 2xx answer), per
  endpoint, in one pass over that range of the ``started_at`` index: only the last hour's rows
  are touched whatever the history holds.
- ``latencies``: the durations of an endpoint's newest ``LATENCY_SAMPLE`` attempts since a time
  (all of them on a quiet endpoint), so the cost of the percentiles stays bounded on a busy one;
  ``last_hour`` turns counts and durations into the summary every view shows, with nearest-rank
  percentiles (``core.stats``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import peewee as pw

from core.contract import BREAKER_CLOSED
from core.db import iso, utcnow
from core.pagination import PageRequest, paginate
from core.stats import percentile

from ..delivery.breaker import SEVERITY
from ..endpoints.models import Endpoint
from ..models import DELIVERING, FAILED, HELD, PENDING, BreakerState, Delivery, DeliveryAttempt, db

WINDOW = dt.timedelta(hours=1)
LATENCY_SAMPLE = 2000
# A worker is live while its heartbeat (every second by default) is at most this old.
WORKER_LIVE_SECONDS = 5.0
UNDELIVERED = (PENDING, DELIVERING)
COUNTED = (PENDING, DELIVERING, HELD, FAILED)


def is_success(status_code: int | None) -> bool:
    """Whether an attempt succeeded: the endpoint answered 2xx (the sender records no error then)."""
    return status_code is not None and 200 <= status_code < 300


def _success_sql() -> pw.Node:
    """``is_success`` as a column: 1 for a 2xx answer, 0 otherwise."""
    return pw.Case(None, [((DeliveryAttempt.status_code >= 200) & (DeliveryAttempt.status_code < 300), 1)], 0)


def delivery_counts(endpoint_ids: Sequence[int], statuses: Sequence[str] = COUNTED) -> dict[int, dict[str, int]]:
    """Per endpoint id, its deliveries in each of ``statuses`` (0 for none)."""
    counts = {endpoint_id: dict.fromkeys(statuses, 0) for endpoint_id in endpoint_ids}
    if not counts:
        return counts
    rows = (
        Delivery.select(Delivery.endpoint_id, Delivery.status, pw.fn.COUNT(Delivery.id))
        .where(Delivery.endpoint_id.in_(list(counts)) & Delivery.status.in_(tuple(statuses)))
        .group_by(Delivery.endpoint_id, Delivery.status)
        .tuples()
    )
    for endpoint_id, status, count in rows:
        counts[endpoint_id][status] = int(count)
    return counts


def _first_created(status: str) -> str:
    return (
        f"(SELECT created_at FROM delivery WHERE id = (SELECT MIN(d.id) FROM delivery d "
        f"WHERE d.endpoint_id = e.id AND d.status = '{status}'))"
    )


_OLDEST_SQL = f"SELECT e.id, {', '.join(_first_created(status) for status in UNDELIVERED)} FROM endpoint e"


def oldest_undelivered(endpoint_ids: Iterable[int] | None = None) -> dict[int, dt.datetime]:
    """Per endpoint id (every endpoint when ``endpoint_ids`` is None), when its oldest delivery not
    yet delivered (pending or in flight) was queued; endpoints with none are left out."""
    sql = _OLDEST_SQL
    if endpoint_ids is not None:
        ids = [int(i) for i in endpoint_ids]
        if not ids:
            return {}
        sql += f" WHERE e.id IN ({', '.join(map(str, ids))})"
    when = Delivery.created_at.python_value
    found = {}
    for endpoint_id, *firsts in db.execute_sql(sql).fetchall():
        queued = [t for t in map(when, firsts) if t is not None]
        if queued:
            found[int(endpoint_id)] = min(queued)
    return found


def _worker(row: BreakerState) -> dict:
    return {
        "worker_id": row.worker_id,
        "state": row.state,
        "failure_count": row.failure_count,
        "opened_at": iso(row.opened_at),
        "updated_at": iso(row.updated_at),
    }


def breaker_of(endpoint_id: int, now: dt.datetime | None = None, live_seconds: float = WORKER_LIVE_SECONDS) -> dict:
    """The endpoint's breaker as the status route shows it: the worst live worker's (closed when
    no worker wrote one within ``live_seconds`` of ``now``)."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=live_seconds)
    rows = list(
        BreakerState.select()
        .where((BreakerState.endpoint == str(endpoint_id)) & (BreakerState.updated_at >= cutoff))
        .order_by(BreakerState.worker_id)
    )
    worst = max(rows, key=lambda r: (SEVERITY.get(r.state, 0), r.failure_count), default=None)
    return {
        "state": worst.state if worst else BREAKER_CLOSED,
        "failure_count": worst.failure_count if worst else 0,
        "opened_at": iso(worst.opened_at) if worst else None,
        "workers": [_worker(r) for r in rows],
    }


def attempts_since(since: dt.datetime, endpoint_ids: Sequence[int] | None = None) -> dict[int, tuple[int, int]]:
    """Per endpoint id (of ``endpoint_ids``, or every one): (attempts, succeeded) of the attempts
    started since ``since``; endpoints without attempts are left out."""
    if endpoint_ids is not None and not endpoint_ids:
        return {}
    where = DeliveryAttempt.started_at >= since
    if endpoint_ids is not None:
        where &= Delivery.endpoint_id.in_(list(endpoint_ids))
    rows = (
        DeliveryAttempt.select(Delivery.endpoint_id, pw.fn.COUNT(DeliveryAttempt.id), pw.fn.SUM(_success_sql()))
        .join(Delivery, on=(Delivery.id == DeliveryAttempt.delivery_id))
        .where(where)
        .group_by(Delivery.endpoint_id)
        .tuples()
    )
    return {int(endpoint_id): (int(attempts or 0), int(succeeded or 0)) for endpoint_id, attempts, succeeded in rows}


def latencies(endpoint_id: int, since: dt.datetime) -> list[int]:
    """The durations of the endpoint's newest ``LATENCY_SAMPLE`` attempts started since ``since``,
    read newest first along the ``started_at`` index, stopping at the sample's size."""
    return [
        d
        for (d,) in DeliveryAttempt.select(DeliveryAttempt.duration_ms)
        .join(Delivery, on=(Delivery.id == DeliveryAttempt.delivery_id))
        .where((DeliveryAttempt.started_at >= since) & (Delivery.endpoint_id == endpoint_id))
        .order_by(DeliveryAttempt.started_at.desc())
        .limit(LATENCY_SAMPLE)
        .tuples()
        if d is not None
    ]


def last_hour(attempts: int, succeeded: int, durations: Sequence[int]) -> dict:
    """The summary of a window's attempts every view shows: counts, success rate, and the median
    and 95th percentile of ``durations`` (``None`` without any)."""
    ordered = sorted(durations)  # once: sorting an ordered list again is a single pass
    return {
        "attempts": attempts,
        "succeeded": succeeded,
        "failed": attempts - succeeded,
        "success_rate": round(succeeded / attempts, 4) if attempts else None,
        "p50_ms": percentile(ordered, 50) if ordered else None,
        "p95_ms": percentile(ordered, 95) if ordered else None,
    }


def age_seconds(since: dt.datetime | None, now: dt.datetime) -> float | None:
    """Seconds from ``since`` to ``now`` (never negative), ``None`` without ``since``."""
    return round(max((now - since).total_seconds(), 0.0), 3) if since else None


def endpoints_health(endpoints: Sequence[Endpoint], now: dt.datetime) -> list[dict]:
    """The health of each of ``endpoints``, in their order: the counts, oldest deliveries and
    attempts of them all are read in one query each, the breaker and latencies per endpoint."""
    ids = [e.id for e in endpoints]
    since = now - WINDOW
    counts = delivery_counts(ids)
    oldest = oldest_undelivered(ids)
    attempts = attempts_since(since, ids)
    rows = []
    for endpoint in endpoints:
        made, succeeded = attempts.get(endpoint.id, (0, 0))
        hour = last_hour(made, succeeded, latencies(endpoint.id, since) if made else [])
        rows.append(health_item(endpoint, counts[endpoint.id], oldest.get(endpoint.id), hour, now))
    return rows


def health_item(
    endpoint: Endpoint, counts: dict[str, int], oldest: dt.datetime | None, hour: dict, now: dt.datetime
) -> dict:
    """One endpoint's health as every view shows it, from figures read for many endpoints at once."""
    return {
        "endpoint_id": endpoint.id,
        "name": endpoint.name,
        "enabled": bool(endpoint.enabled),
        "disabled_reason": endpoint.disabled_reason,
        "breaker": breaker_of(endpoint.id, now),
        "deliveries": counts,
        "oldest_pending_at": iso(oldest),
        "oldest_pending_age_seconds": age_seconds(oldest, now),
        "last_hour": hour,
        "last_success_at": iso(endpoint.last_success_at),
        "last_failure_at": iso(endpoint.last_failure_at),
    }


def list_health(page: PageRequest, now: dt.datetime | None = None) -> tuple[list[dict], str | None]:
    """One page of endpoints' health, in id order like ``GET /endpoints``."""
    now = now or utcnow()
    if page.after_id is None and not page.ascending:
        page = PageRequest(page.limit, 0, ascending=True)
    rows, cursor = paginate(Endpoint.select(), Endpoint.id, page)
    return endpoints_health(rows, now), cursor


def all_health(now: dt.datetime | None = None) -> list[dict]:
    """Every endpoint's health, in id order (endpoint 1, the CRM, first)."""
    return endpoints_health(list(Endpoint.select().order_by(Endpoint.id)), now or utcnow())
