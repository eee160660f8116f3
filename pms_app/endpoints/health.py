"""An endpoint's health over time: disabling it (by an operator, or by the worker when it
answers 410 Gone or has kept failing), and the failing window that leads there.

``disable`` holds the endpoint's pending deliveries in the same transaction, so nothing of it
is attempted until someone enables it again. ``failing_since`` is when attempts began failing
with no success since; ``disable_failing`` disables those failing longer than
``ENDPOINT_DISABLE_AFTER_HOURS``.
"""

from __future__ import annotations

import datetime as dt

from core.contract import FAILING, MANUAL
from core.db import utcnow

from ..models import HELD, PENDING, Delivery
from ..notifications import raising
from .models import Endpoint


def disable(endpoint_id: int, reason: str) -> int:
    """Disable the endpoint and hold its pending deliveries; returns how many were held (0 and
    no change when it was disabled already)."""
    now = utcnow()
    changed = (
        Endpoint.update(enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now)
        .where((Endpoint.id == endpoint_id) & (Endpoint.enabled == True))  # noqa: E712 - SQL
        .execute()
    )
    if not changed and reason != MANUAL:
        return 0
    if changed:
        raising.endpoint_disabled(endpoint_id, reason)
    return (
        Delivery.update(status=HELD)
        .where((Delivery.endpoint_id == endpoint_id) & (Delivery.status == PENDING))
        .execute()
    )


def note_outcomes(endpoint_id: int, success: dt.datetime | None, failure: dt.datetime | None) -> None:
    """Move the failing window: a success closes it, a later failure opens it if none is open."""
    if success is not None:
        (
            Endpoint.update(failing_since=None)
            .where(
                (Endpoint.id == endpoint_id)
                & Endpoint.failing_since.is_null(False)
                & (Endpoint.failing_since <= success)
            )
            .execute()
        )
    if failure is not None and (success is None or failure > success):
        (
            Endpoint.update(failing_since=failure)
            .where(
                (Endpoint.id == endpoint_id)
                & Endpoint.failing_since.is_null()
                & (Endpoint.last_success_at.is_null() | (Endpoint.last_success_at < failure))
            )
            .execute()
        )


def disable_failing(hours: float, now: dt.datetime | None = None) -> list[int]:
    """Disable every enabled endpoint failing for ``hours`` or more; returns their ids."""
    cutoff = (now or utcnow()) - dt.timedelta(hours=hours)
    enabled = Endpoint.enabled == True  # noqa: E712 - a SQL condition, not a Python comparison
    ids = [e.id for e in Endpoint.select(Endpoint.id).where(enabled & (Endpoint.failing_since < cutoff))]
    for endpoint_id in ids:
        disable(endpoint_id, FAILING)
    return ids
