"""The endpoint health figures, defined once: the health page, the overview, the ``status``
command and the gauges agree on each endpoint's counts and oldest delivery not yet delivered
(pending or in flight, by queued time; held ones left out). Every backend."""

from __future__ import annotations

import datetime as dt

from core.db import iso, utcnow
from core.pagination import PageRequest
from pms_app.delivery.queue_metrics import endpoint_queue
from pms_app.models import DELIVERED, DELIVERING, FAILED, HELD, PENDING, BreakerState, Delivery, DeliveryAttempt
from pms_app.services import endpoint_health
from pms_app.services.endpoint_activity import AttemptMinutes, endpoints_activity
from tests.support.delivery import add_event
from tests.support.endpoints import add_endpoint


def arrange(store) -> dict:
    """Endpoint 1: a held delivery queued first, then one in flight, then one pending; endpoint
    "spare": only a failed one; endpoint "empty": nothing."""
    spare = add_endpoint(store, "spare", "http://127.0.0.1:9/s", event_types=["guest.*"])
    empty = add_endpoint(store, "empty", "http://127.0.0.1:9/e", event_types=["nothing.*"])
    ids = [add_event(store, entity_id=n) for n in range(1, 5)]
    now = utcnow()

    def write():
        def on(event_id, endpoint_id, **values):
            Delivery.update(**values).where(
                (Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id)
            ).execute()

        on(ids[0], 1, status=HELD, created_at=now - dt.timedelta(minutes=30))
        on(ids[1], 1, status=DELIVERING, created_at=now - dt.timedelta(minutes=20))
        on(ids[2], 1, status=PENDING, created_at=now - dt.timedelta(minutes=10))
        on(ids[3], 1, status=DELIVERED, delivered_at=now)
        for event_id in ids:
            on(event_id, spare, status=DELIVERED, delivered_at=now)
        on(ids[0], spare, status=FAILED)
        crm_delivery = Delivery.get((Delivery.event_id == ids[3]) & (Delivery.endpoint_id == 1))
        for seconds, code, ms in ((50, 200, 10), (40, 200, 30), (30, 503, 200)):
            DeliveryAttempt.create(
                event_id=ids[3],
                delivery_id=crm_delivery.id,
                attempt=1,
                status_code=code,
                started_at=now - dt.timedelta(seconds=seconds),
                duration_ms=ms,
                error=None if code == 200 else f"HTTP {code}",
            )
        BreakerState.create(
            worker_id="w-1", endpoint=str(spare), state="open", failure_count=3, opened_at=now, updated_at=now
        )

    store.call(write)
    return {"spare": spare, "empty": empty, "queued": now - dt.timedelta(minutes=20)}


def test_every_view_reads_the_same_figures(pms_db):
    store = pms_db.store
    setup = arrange(store)
    spare, empty = setup["spare"], setup["empty"]
    health, _ = store.call(endpoint_health.list_health, PageRequest(50))
    activity = store.call(endpoints_activity, AttemptMinutes(), 10.0)
    every = store.call(endpoint_health.all_health)
    gauges = {q.endpoint: q for q in store.call(endpoint_queue, transaction=False)}

    by_id = {h["endpoint_id"]: h for h in health}
    assert by_id[1]["deliveries"] == {"pending": 1, "delivering": 1, "held": 1, "failed": 0}
    assert by_id[spare]["deliveries"] == {"pending": 0, "delivering": 0, "held": 0, "failed": 1}
    # The in-flight delivery is older than the pending one; the held one, older still, does not count.
    assert by_id[1]["oldest_pending_at"] == iso(setup["queued"])
    assert by_id[spare]["oldest_pending_at"] is None and by_id[empty]["oldest_pending_at"] is None
    assert by_id[1]["last_hour"] == {
        "attempts": 3,
        "succeeded": 2,
        "failed": 1,
        "success_rate": 0.6667,
        "p50_ms": 30,
        "p95_ms": 200,
    }
    assert by_id[spare]["breaker"]["state"] == "open"

    for view in (activity["endpoints"], every):
        for entry in view:
            mine = by_id[entry["endpoint_id"]]
            for key in ("deliveries", "oldest_pending_at", "breaker", "last_hour"):
                assert entry[key] == mine[key], (entry["endpoint_id"], key)
    assert activity["overall"]["oldest_pending_at"] == iso(setup["queued"])

    assert {name: q.failed for name, q in gauges.items()} == {"crm": 0, "spare": 1, "empty": 0}
    assert gauges["crm"].oldest_undelivered == setup["queued"]
    assert gauges["spare"].oldest_undelivered is None


def test_figures_of_no_endpoints_read_nothing(pms_db):
    assert pms_db.store.call(endpoint_health.delivery_counts, []) == {}
    assert pms_db.store.call(endpoint_health.oldest_undelivered, []) == {}
    assert pms_db.store.call(endpoint_health.attempts_since, utcnow(), []) == {}
    assert endpoint_health.last_hour(0, 0, [])["p50_ms"] is None
