"""Pushing notifications to ``OPS_WEBHOOK_URL``, signed with ``OPS_WEBHOOK_SECRET`` like any
webhook (``webhook-id`` ``ntf_<id>``), with retries of its own.

A worker's maintenance thread claims due notifications (a lease in ``ops_next_at``, ``SKIP
LOCKED`` on MySQL/MariaDB so workers share the work), sends them, then marks each ``sent`` or
schedules its next try by ``WEBHOOK_RETRY_SCHEDULE``; after the last one it is ``failed``. A
failing ops webhook raises no notification of its own: it is only logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from core.db import is_mysql, read_committed, utcnow

from ..delivery.claims import Claim
from ..delivery.retry import next_delay
from ..delivery.sender import Sender
from ..models import SCHEDULED, db
from .models import OPS_FAILED, OPS_PENDING, OPS_SENT, Notification

BATCH = 20


def claim_due(lease_seconds: float, limit: int = BATCH) -> list[Notification]:
    """Due notifications, held for ``lease_seconds`` (opens its own transaction)."""
    now = utcnow()
    with read_committed(db):
        query = (
            Notification.select()
            .where((Notification.ops_status == OPS_PENDING) & (Notification.ops_next_at <= now))
            .order_by(Notification.id)
            .limit(limit)
        )
        if is_mysql(db):
            query = query.for_update(skip_locked=True)
        rows = list(query)
        if rows:
            (
                Notification.update(ops_next_at=now + dt.timedelta(seconds=lease_seconds))
                .where(Notification.id.in_([r.id for r in rows]))
                .execute()
            )
    return rows


def send(sender: Sender, notification: Notification) -> bool:
    body = {
        "id": notification.id,
        "type": notification.type,
        "endpoint_id": notification.endpoint_id,
        "data": notification.data or {},
    }
    claim = Claim(
        notification.id,
        f"ntf_{notification.id}",
        0,
        notification.type,
        body,
        notification.created_at,
        "ops",
        utcnow(),
        0,
        SCHEDULED,
        None,
    )
    return sender.send(claim).record.ok


def settle(results: Sequence[tuple[int, int, bool]], schedule: Sequence[float]) -> None:
    """``(id, attempts before, ok)`` of each push: sent, or its next try, or failed."""
    now = utcnow()
    for notification_id, attempts, ok in results:
        if ok:
            values = {"ops_status": OPS_SENT, "ops_attempts": attempts + 1}
        else:
            delay = next_delay(schedule, attempts + 1)
            values = {
                "ops_attempts": attempts + 1,
                **({"ops_status": OPS_FAILED} if delay is None else {"ops_next_at": now + dt.timedelta(seconds=delay)}),
            }
        Notification.update(**values).where(Notification.id == notification_id).execute()
