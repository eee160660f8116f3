"""Pruning deliveries delivered longer ago than ``OUTBOX_RETENTION_DAYS``, with their attempts,
and then the events left with no delivery at all.

Small batches, each its own short transaction, so pruning never holds long locks and the API
and the claimers keep going while it runs. Only ``delivered`` deliveries go: ``failed`` and
``held`` ones stay until someone acts, and so does their event (its payload is needed to send
it). Events that matched no endpoint go once they are as old as the retention period. Breaker
history older than the same period goes too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.db import utcnow

from ..models import DELIVERED, Delivery, DeliveryAttempt, OutboxEvent, db
from .models import BreakerTransition

BATCH_SIZE = 500


def prune_batch(retention_days: float, batch_size: int = BATCH_SIZE) -> int:
    """Delete one batch of deliveries (and the events they leave empty); returns how many
    deliveries went."""
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    rows = list(
        Delivery.select(Delivery.id, Delivery.event_seq)
        .where((Delivery.status == DELIVERED) & (Delivery.delivered_at < cutoff))
        .order_by(Delivery.delivered_at)
        .limit(batch_size)
    )
    if not rows:
        return 0
    DeliveryAttempt.delete().where(DeliveryAttempt.delivery_id.in_([r.id for r in rows])).execute()
    removed = Delivery.delete().where(Delivery.id.in_([r.id for r in rows]) & (Delivery.status == DELIVERED)).execute()
    _delete_empty_events({r.event_seq for r in rows})
    return removed


def _delete_empty_events(seqs) -> None:
    if not seqs:
        return
    marks = ", ".join([db.param] * len(seqs))
    db.execute_sql(
        f"DELETE FROM outbox_event WHERE seq IN ({marks}) AND NOT EXISTS "
        f"(SELECT 1 FROM delivery d WHERE d.event_seq = outbox_event.seq)",
        list(seqs),
    )


def prune_unrouted_batch(retention_days: float, batch_size: int = BATCH_SIZE) -> int:
    """Delete one batch of old events that have no delivery (no endpoint wanted them)."""
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    seqs = [
        row[0]
        for row in db.execute_sql(
            f"SELECT e.seq FROM outbox_event e WHERE e.created_at < {db.param} AND NOT EXISTS "
            f"(SELECT 1 FROM delivery d WHERE d.event_seq = e.seq) ORDER BY e.seq LIMIT {db.param}",
            (OutboxEvent.created_at.db_value(cutoff), batch_size),
        ).fetchall()
    ]
    _delete_empty_events(seqs)
    return len(seqs)


def prune(
    run: Callable, retention_days: float, should_stop: Callable[[], bool] = lambda: False, batch_size: int = BATCH_SIZE
) -> int:
    """Prune batch after batch through ``run`` (``store.call``) until none is left or asked to
    stop; returns how many deliveries went (unrouted events and old breaker history go the
    same way)."""
    total = 0
    for unit in (prune_batch, prune_unrouted_batch, prune_transitions_batch):
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
    old = [
        t.id
        for t in BreakerTransition.select(BreakerTransition.id)
        .where(BreakerTransition.at < cutoff)
        .order_by(BreakerTransition.id)
        .limit(batch_size)
    ]
    if not old:
        return 0
    return BreakerTransition.delete().where(BreakerTransition.id.in_(old)).execute()
