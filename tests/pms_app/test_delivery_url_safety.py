"""The worker refuses unsafe addresses: a failed attempt with a clear error, made without
connecting, retried on the schedule and counted by the breaker like a connection error."""

from __future__ import annotations

import ipaddress

from pms_app.models import FAILED, DeliveryAttempt
from tests.support.delivery import add_event, delivery_settings, event, running_worker
from tests.support.receivers import Receiver, accept, wait_until


def attempts(store, event_id):
    return store.call(
        lambda: list(DeliveryAttempt.select().where(DeliveryAttempt.event_id == event_id).order_by(DeliveryAttempt.id))
    )


def test_a_receiver_in_a_denied_network_is_never_connected_to(pms_db):
    store = pms_db.store
    with Receiver(accept) as receiver:
        settings = delivery_settings(
            receiver.url,
            retry_schedule=(0,),
            breaker_failure_threshold=2,
            endpoint_denied_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        )
        event_id = add_event(store)
        with running_worker(settings, store) as worker:
            wait_until(lambda: event(store, event_id).status == FAILED, message="failed")
            assert worker.breaker.state == "open"
        assert receiver.count() == 0
    rows = attempts(store, event_id)
    assert [a.error for a in rows] == ["refused: 127.0.0.1 is in a denied network (127.0.0.0/8)"] * 2
    assert all(a.status_code is None for a in rows)
    assert event(store, event_id).last_error.startswith("refused: ")


def test_the_metadata_address_is_refused_in_any_spelling_by_the_worker(pms_db):
    store = pms_db.store
    settings = delivery_settings("http://0xa9fea9fe/latest/meta-data/", retry_schedule=())
    event_id = add_event(store)
    with running_worker(settings, store):
        wait_until(lambda: event(store, event_id).status == FAILED, message="failed")
    (attempt,) = attempts(store, event_id)
    assert attempt.error == "refused: 0xa9fea9fe is 169.254.169.254, a link-local address"
    assert attempt.duration_ms < 100
