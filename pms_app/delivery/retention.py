"""Pruning delivered events older than ``OUTBOX_RETENTION_DAYS``, with their attempts.

Small batches, each its own short transaction, so pruning never holds long locks and the API
and the claimers keep going while it runs. Only ``delivered`` events go: ``failed`` ones stay
until someone replays them. Breaker history older than the same period goes too.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from core.db import utcnow

from ..models import DELIVERED, DeliveryAttempt, OutboxEvent
from .models import BreakerTransition

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
    """Prune batch after batch through ``run`` (``store.call``) until none is left or asked to
    stop; returns how many events went (old breaker history goes the same way)."""
    total = 0
    for unit in (prune_batch, prune_transitions_batch):
        while True:
            if should_stop():
                return total
            removed = run(unit, retention_days, batch_size)
            if unit is prune_batch:
                total += removed
            if removed < batch_size:
                break
    return total


def prune_transitions_batch(retention_days: float, batch_size: int = BATCH_SIZE) -> int:
    """Delete one batch of breaker history older than the retention period."""
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    old = [t.id for t in BreakerTransition.select(BreakerTransition.id)
           .where(BreakerTransition.at < cutoff).order_by(BreakerTransition.id).limit(batch_size)]
    if not old:
        return 0
    return BreakerTransition.delete().where(BreakerTransition.id.in_(old)).execute()
