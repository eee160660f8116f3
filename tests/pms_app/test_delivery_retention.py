"""Retention: delivered events past the period go, with their attempts; everything else stays."""

from __future__ import annotations

import datetime as dt

from core.db import utcnow
from pms_app.delivery import retention
from pms_app.delivery.models import BreakerTransition
from pms_app.models import DELIVERED, FAILED, PENDING, Delivery, DeliveryAttempt, OutboxEvent
from tests.support.delivery import add_event


def age(store, event_id, status, days):
    when = utcnow() - dt.timedelta(days=days)

    def write():
        Delivery.update(status=status, delivered_at=when if status == DELIVERED else None, created_at=when).where(
            Delivery.event_id == event_id
        ).execute()
        OutboxEvent.update(created_at=when).where(OutboxEvent.id == event_id).execute()
        delivery = Delivery.get(Delivery.event_id == event_id)
        DeliveryAttempt.create(
            event_id=event_id, delivery_id=delivery.id, attempt=1, started_at=when, status_code=202, duration_ms=3
        )

    store.call(write)


def test_prunes_old_delivered_events_in_batches(pms_db):
    store = pms_db.store
    old = [add_event(store, entity_id=i) for i in range(7)]
    for event_id in old:
        age(store, event_id, DELIVERED, days=8)
    recent = add_event(store, entity_id=100)
    age(store, recent, DELIVERED, days=6)
    old_failed = add_event(store, entity_id=101)
    age(store, old_failed, FAILED, days=30)
    old_pending = add_event(store, entity_id=102)
    age(store, old_pending, PENDING, days=30)

    batches = []

    def counting_call(fn, *args):
        batches.append(args)
        return store.call(fn, *args)

    assert retention.prune(counting_call, 7, batch_size=3) == 7
    assert len(batches) == 5  # deliveries 3 + 3 + 1, then unrouted events, then breaker history
    left = store.call(lambda: {e.id for e in OutboxEvent.select()})
    assert left == {recent, old_failed, old_pending}
    attempts_left = store.call(lambda: {a.event_id for a in DeliveryAttempt.select()})
    assert attempts_left == {recent, old_failed, old_pending}


def test_prune_stops_when_asked(pms_db):
    store = pms_db.store
    for i in range(4):
        event_id = add_event(store, entity_id=i)
        age(store, event_id, DELIVERED, days=8)
    assert retention.prune(store.call, 7, should_stop=lambda: True) == 0
    assert retention.prune(store.call, 7, batch_size=2, should_stop=iter([False, True]).__next__) == 2
    assert store.call(lambda: OutboxEvent.select().count()) == 2


def test_the_worker_prunes_periodically(pms_db):
    import dataclasses

    from tests.support.delivery import FAST, delivery_settings, running_worker
    from tests.support.receivers import Receiver, wait_until

    store = pms_db.store
    event_id = add_event(store)
    age(store, event_id, DELIVERED, days=8)
    with Receiver() as receiver:
        timing = dataclasses.replace(FAST, retention_every=0.05)
        with running_worker(delivery_settings(receiver.url), store, timing=timing):
            wait_until(lambda: store.call(lambda: OutboxEvent.select().count()) == 0, message="pruned")
        assert receiver.count() == 0


def test_prunes_old_breaker_history(pms_db):
    store = pms_db.store
    now = utcnow()
    store.call(
        lambda: [
            BreakerTransition.create(
                worker_id="w", endpoint="e", from_state="closed", to_state="open", at=now - dt.timedelta(days=d)
            )
            for d in (30, 9, 1)
        ]
    )
    retention.prune(store.call, 7, batch_size=1)
    left = store.call(lambda: sorted((now - t.at).days for t in BreakerTransition.select()))
    assert left == [1]
