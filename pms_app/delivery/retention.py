"""Pruning delivered events older than ``OUTBOX_RETENTION_DAYS``, with their attempts.

Small batches, each its own short transaction, so pruning never holds long locks and the API
and the claimers keep going while it runs. Only ``delivered`` events go: ``failed`` ones stay
until someone replays them.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from core.db import utcnow

from ..models import DELIVERED, DeliveryAttempt, OutboxEvent

BATCH_SIZE = 500


def prune_batch(retention_days: float, batch_size: int = BATCH_SIZE) -> int:
    """Delete one batch; returns how many events went."""
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    rows = list(OutboxEvent.select(OutboxEvent.seq, OutboxEvent.id)
                .where((OutboxEvent.status == DELIVERED) & (OutboxEvent.delivered_at < cutoff))
                .order_by(OutboxEvent.delivered_at)
                .limit(batch_size))
    if not rows:
        return 0
    DeliveryAttempt.delete().where(DeliveryAttempt.event_id.in_([r.id for r in rows])).execute()
    return (OutboxEvent.delete()
            .where(OutboxEvent.seq.in_([r.seq for r in rows]) & (OutboxEvent.status == DELIVERED))
            .execute())


def prune(run: Callable, retention_days: float, should_stop: Callable[[], bool] = lambda: False,
          batch_size: int = BATCH_SIZE) -> int:
    """Prune batch after batch through ``run`` (``store.call``) until none is left or asked to stop."""
    total = 0
    while not should_stop():
        removed = run(prune_batch, retention_days, batch_size)
        total += removed
        if removed < batch_size:
            break
    return total
