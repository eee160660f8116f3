"""Raising notifications, in the caller's transaction, once per incident.

An endpoint's breaker opens in each worker that talks to it, and a flapping breaker opens again
after every failed probe: ``endpoint.failing`` is raised only when the endpoint has no open
incident (its latest failing/recovered notification is not a ``failing`` one), and
``endpoint.recovered`` only to close one. The endpoint's row is locked meanwhile, so two
workers cannot both open the incident. ``endpoint.disabled`` is raised with each disabling,
``delivery.failed`` when a delivery gave up after its last retry (not for test pings),
``sync.drift`` when a reconciliation run found entities out of step with the CRM (one per run).
"""

from __future__ import annotations

from core.db import utcnow

from ..endpoints.models import Endpoint
from ..models import CRM_ENDPOINT_ID
from ..services.rows import for_update
from .models import DELIVERY_FAILED, DISABLED, FAILING, RECOVERED, SYNC_DRIFT, Notification


def notify(notification_type: str, endpoint_id: int | None, **data) -> Notification:
    now = utcnow()
    return Notification.create(
        type=notification_type, endpoint_id=endpoint_id, data=data, created_at=now, ops_next_at=now
    )


def _incident_open(endpoint_id: int) -> bool:
    list(for_update(Endpoint.select(Endpoint.id).where(Endpoint.id == endpoint_id)))
    latest = (
        Notification.select(Notification.type)
        .where((Notification.endpoint_id == endpoint_id) & Notification.type.in_((FAILING, RECOVERED)))
        .order_by(Notification.id.desc())
        .first()
    )
    return latest is not None and latest.type == FAILING


def breaker_opened(endpoint_id: int, failure_count: int) -> bool:
    """An open breaker: a notification unless this incident was already told."""
    if _incident_open(endpoint_id):
        return False
    notify(FAILING, endpoint_id, failure_count=failure_count)
    return True


def breaker_closed(endpoint_id: int) -> bool:
    """A breaker closed after being open: the incident is over (told once)."""
    if not _incident_open(endpoint_id):
        return False
    notify(RECOVERED, endpoint_id)
    return True


def endpoint_disabled(endpoint_id: int, reason: str) -> None:
    notify(DISABLED, endpoint_id, reason=reason)


def delivery_failed(
    endpoint_id: int, event_id: str, event_type: str, error: str | None, status_code: int | None
) -> None:
    notify(
        DELIVERY_FAILED, endpoint_id, event_id=event_id, type=event_type, last_error=error, last_status_code=status_code
    )


def sync_drift(run: dict) -> None:
    """A reconciliation run found drift: about endpoint 1 (the CRM), with the run's counts."""
    notify(
        SYNC_DRIFT,
        CRM_ENDPOINT_ID,
        run_id=run["id"],
        kind=run["kind"],
        drifted=run["drifted"],
        repaired=run["repaired"],
        unrepairable=run["unrepairable"],
        dry_run=bool(run.get("dry_run")),
    )
