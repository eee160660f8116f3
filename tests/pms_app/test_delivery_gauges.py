"""The delivery gauges: failed deliveries and the age of the oldest undelivered one per
endpoint (read from the database before each scrape), and the breaker as a state set. Every
backend."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from core.db import utcnow
from core.metrics import Metrics
from pms_app.app import make_app
from pms_app.config import PmsSettings
from pms_app.delivery.metrics import DeliveryMetrics
from pms_app.delivery.queue_metrics import endpoint_queue
from pms_app.endpoints.models import Endpoint, EndpointSecret
from pms_app.models import DELIVERING, FAILED, Delivery
from tests.support.delivery import add_event
from tests.support.endpoints import add_endpoint
from tests.support.http import call


def samples(text: str, name: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def set_delivery(store, event_id: str, endpoint_id: int, **values) -> None:
    store.call(
        lambda: (
            Delivery.update(**values)
            .where((Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id))
            .execute()
        )
    )


def backlog(store):
    """Endpoint crm: 2 failed, the oldest undelivered one queued 90 s ago and in flight;
    endpoint quiet: nothing to do; endpoint busy: one pending, queued 30 s ago."""
    add_endpoint(store, "quiet", "http://127.0.0.1:9/q", event_types=["reservation.*"])
    busy = add_endpoint(store, "busy", "http://127.0.0.1:9/b", event_types=["guest.*"])
    now = utcnow()
    ids = [add_event(store, entity_id=n) for n in range(1, 6)]
    set_delivery(store, ids[0], 1, status=FAILED)
    set_delivery(store, ids[1], 1, status=FAILED)
    set_delivery(store, ids[2], 1, status=DELIVERING, created_at=now - dt.timedelta(seconds=90))
    set_delivery(store, ids[3], 1, created_at=now - dt.timedelta(seconds=40))
    set_delivery(store, ids[4], 1, status="delivered")
    for event_id in ids:
        set_delivery(store, event_id, busy, status="delivered")
    set_delivery(store, ids[4], busy, status="pending", created_at=now - dt.timedelta(seconds=30))


def test_every_endpoints_queue_is_read_in_a_few_index_seeks(pms_db):
    backlog(pms_db.store)
    queues = {q.endpoint: q for q in pms_db.store.call(endpoint_queue, transaction=False)}
    assert {name: q.failed for name, q in queues.items()} == {"crm": 2, "quiet": 0, "busy": 0}
    assert queues["quiet"].oldest_undelivered is None
    now = utcnow()
    assert 89 <= (now - queues["crm"].oldest_undelivered).total_seconds() < 120
    assert 29 <= (now - queues["busy"].oldest_undelivered).total_seconds() < 60


@pytest.mark.gen_test
async def test_the_pms_metrics_serve_them_when_a_worker_runs_in_process(http_client, base_url, pms_db):
    backlog(pms_db.store)
    response = await call(http_client, base_url, "GET", "/metrics")
    text = response.body.decode()
    assert samples(text, "pms_deliveries_failed") == {
        (("endpoint", "crm"),): 2.0,
        (("endpoint", "quiet"),): 0.0,
        (("endpoint", "busy"),): 0.0,
    }
    ages = samples(text, "pms_delivery_oldest_pending_age_seconds")
    assert ages[(("endpoint", "quiet"),)] == 0.0
    assert 89 <= ages[(("endpoint", "crm"),)] < 120 and 29 <= ages[(("endpoint", "busy"),)] < 60
    # A deleted endpoint's series go with it.
    await pms_db.store.run(lambda: Delivery.delete().where(Delivery.endpoint_id > 1).execute())
    await pms_db.store.run(
        lambda: (
            EndpointSecret.delete().where(EndpointSecret.endpoint > 1).execute(),
            Endpoint.delete().where(Endpoint.id > 1).execute(),
        )
    )
    text = (await call(http_client, base_url, "GET", "/metrics")).body.decode()
    assert samples(text, "pms_deliveries_failed") == {(("endpoint", "crm"),): 2.0}


@pytest.fixture
def app(pms_db):
    """The PMS app as ``python -m pms_app`` builds it: the worker's metrics on the app's registry."""
    metrics = Metrics("pms")
    DeliveryMetrics(metrics).watch_queue(pms_db.store)
    return make_app(PmsSettings(), store=pms_db.store, metrics=metrics)


def test_the_breaker_is_a_state_set_beside_the_old_gauge():
    metrics = DeliveryMetrics(Metrics("pms-worker"))
    metrics.breaker_state("crm", "half_open")
    metrics.breaker_state("erp", "open")
    text = generate_latest(metrics.metrics.registry).decode()
    states = samples(text, "pms_delivery_breaker")
    assert states[(("endpoint", "crm"), ("pms_delivery_breaker", "half_open"))] == 1.0
    assert states[(("endpoint", "crm"), ("pms_delivery_breaker", "open"))] == 0.0
    assert states[(("endpoint", "crm"), ("pms_delivery_breaker", "closed"))] == 0.0
    assert states[(("endpoint", "erp"), ("pms_delivery_breaker", "open"))] == 1.0
    assert samples(text, "pms_delivery_breaker_state") == {(("endpoint", "crm"),): 1.0, (("endpoint", "erp"),): 2.0}
