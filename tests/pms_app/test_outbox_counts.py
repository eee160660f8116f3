"""Outbox counts stay exact for small outboxes and bounded in cost for large ones."""

from pms_app.models import DELIVERED, FAILED, Delivery
from pms_app.services.outbox_counts import OutboxCounts
from tests.support.delivery import add_event


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def mark(store, status, ids):
    store.call(lambda: Delivery.update(status=status).where(Delivery.event_id.in_(ids)).execute())


def test_counts_are_exact_below_the_limit_and_cached_above_it(pms_db):
    store = pms_db.store
    clock = Clock()
    counts = OutboxCounts(exact_limit=3, max_age=30, clock=clock)
    ids = [add_event(store, entity_id=i) for i in range(1, 10)]
    mark(store, DELIVERED, ids[:3])
    mark(store, FAILED, ids[8:])
    assert store.call(counts.read) == {"pending": 5, "delivering": 0, "delivered": 3, "failed": 1}
    mark(store, DELIVERED, ids[3:5])  # 5 delivered: past the exact limit
    assert store.call(counts.read)["delivered"] == 5  # counted in full, then cached
    mark(store, DELIVERED, ids[5:7])
    cached = store.call(counts.read)
    assert cached["delivered"] == 5 and cached["pending"] == 1  # small sets are always exact
    clock.now += 31
    assert store.call(counts.read)["delivered"] == 7
