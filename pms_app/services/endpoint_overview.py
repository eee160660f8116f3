"""The webhook status of every endpoint at once, as an operator triaging an incident reads it.

Each endpoint's entry is its status route's answer (breaker, delivery counts, last success and
failure) with what comes next in a triage: whether it is enabled and why not, how many of its
deliveries are held, when its oldest pending delivery was written, and how many of the last
hour's attempts succeeded.

Every figure reads an index or the primary key: the cost follows the number of endpoints and
the last hour's attempts, never the size of the history. The attempts table has no index on
time; its rows are written in the order the attempts end, so the first attempt of the hour is
found by a binary search over the primary key (a few dozen point reads) and only the rows after
it are counted.
"""

from __future__ import annotations

import datetime as dt

import peewee as pw

from core.db import iso, utcnow

from ..endpoints.models import Endpoint
from ..models import HELD, PENDING, Delivery, DeliveryAttempt
from .deliveries import webhook_status
from .outbox_counts import OutboxCounts

WINDOW = dt.timedelta(hours=1)
# How long after it started an attempt's row may be written: its time limit (at most 300 s), or
# while the database is down, until its claim's lease runs out. Rows that started earlier than
# a window's start by more than this were all written before any row of the window.
RECORDING_DELAY = dt.timedelta(hours=1)


def overview(counts: OutboxCounts, now: dt.datetime | None = None) -> list[dict]:
    """Every endpoint's status, in id order (endpoint 1, the CRM, first)."""
    now = now or utcnow()
    outcomes = attempt_outcomes(now - WINDOW)
    return [_entry(endpoint, counts, now, outcomes.get(endpoint.id, (0, 0)))
            for endpoint in Endpoint.select().order_by(Endpoint.id)]


def _entry(endpoint: Endpoint, counts: OutboxCounts, now: dt.datetime, outcomes: tuple[int, int]) -> dict:
    oldest = oldest_pending_at(endpoint.id)
    attempts, succeeded = outcomes
    return {
        "id": endpoint.id,
        "name": endpoint.name,
        "enabled": bool(endpoint.enabled),
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": iso(endpoint.failing_since),
        **webhook_status(endpoint.id, counts),
        "held": held_count(endpoint.id),
        "oldest_pending_at": iso(oldest),
        "oldest_pending_age_seconds": round((now - oldest).total_seconds()) if oldest else None,
        "last_hour": {"attempts": attempts, "succeeded": succeeded,
                      "success_rate": round(succeeded / attempts, 4) if attempts else None},
    }


def held_count(endpoint_id: int) -> int:
    return Delivery.select().where((Delivery.endpoint_id == endpoint_id) & (Delivery.status == HELD)).count()


def oldest_pending_at(endpoint_id: int) -> dt.datetime | None:
    """When the endpoint's oldest ``pending`` delivery was written (waiting for its first attempt
    or for a retry), through the (endpoint_id, status, id) index."""
    oldest = (Delivery.select(Delivery.created_at)
              .where((Delivery.endpoint_id == endpoint_id) & (Delivery.status == PENDING))
              .order_by(Delivery.id).first())
    return oldest.created_at if oldest else None


def attempt_outcomes(since: dt.datetime) -> dict[int, tuple[int, int]]:
    """Per endpoint id: the attempts started since ``since`` and how many of them succeeded (2xx)."""
    first = first_attempt_id_after(since - RECORDING_DELAY)
    if first is None:
        return {}
    ok = pw.Case(None, [((DeliveryAttempt.status_code >= 200) & (DeliveryAttempt.status_code < 300), 1)], 0)
    rows = (DeliveryAttempt.select(Delivery.endpoint_id, pw.fn.COUNT(DeliveryAttempt.id), pw.fn.SUM(ok))
            .join(Delivery, on=(Delivery.id == DeliveryAttempt.delivery_id))
            .where((DeliveryAttempt.id >= first) & (DeliveryAttempt.started_at >= since))
            .group_by(Delivery.endpoint_id).tuples())
    return {int(endpoint_id): (int(attempts), int(succeeded or 0)) for endpoint_id, attempts, succeeded in rows}


def first_attempt_id_after(at: dt.datetime) -> int | None:
    """A lower bound for the id of every attempt that started ``RECORDING_DELAY`` after ``at`` or
    later; ``None`` when no attempt was written since ``at``.

    A binary search over id values, where ``recent(v)`` says whether the first row at or after
    id ``v`` started at or after ``at``. It ends next to a row that started before ``at``; that
    row was written before any attempt that started ``RECORDING_DELAY`` later even began, so
    every such attempt has a greater id.
    """
    low, high = DeliveryAttempt.select(pw.fn.MIN(DeliveryAttempt.id), pw.fn.MAX(DeliveryAttempt.id)).scalar(
        as_tuple=True)
    if high is None or not _recent(high, at):
        return None
    if _recent(low, at):
        return low
    while high - low > 1:   # recent(low) is false, recent(high) is true
        middle = (low + high) // 2
        if _recent(middle, at):
            high = middle
        else:
            low = middle
    return high


def _recent(at_or_after_id: int, at: dt.datetime) -> bool:
    row = (DeliveryAttempt.select(DeliveryAttempt.started_at)
           .where(DeliveryAttempt.id >= at_or_after_id).order_by(DeliveryAttempt.id).first())
    return row is not None and row.started_at >= at
