"""Notifications: raised once per incident, listed by GET /notifications, pushed signed to the
ops webhook with retries of their own (and never about themselves)."""

from __future__ import annotations

import dataclasses

import pytest
from standardwebhooks import Webhook

from pms_app.notifications import raising
from pms_app.notifications.models import OPS_SENT, Notification
from tests.support.delivery import add_event, delivery_settings, running_worker, statuses
from tests.support.endpoints import add_endpoint, new_secret
from tests.support.http import call, json_of
from tests.support.receivers import Receiver, Reply, accept, always, wait_until


def notes(store, endpoint_id=None) -> list[tuple]:
    def read():
        query = Notification.select().order_by(Notification.id)
        if endpoint_id is not None:
            query = query.where(Notification.endpoint_id == endpoint_id)
        return [(n.type, n.data) for n in query]

    return store.call(read)


def test_a_flapping_breaker_notifies_once_per_incident(pms_db):
    store = pms_db.store
    with Receiver(always(503)) as receiver:
        add_event(store)
        settings = delivery_settings(
            receiver.url, breaker_failure_threshold=2, breaker_recovery_seconds=0.2, retry_schedule=(0,) * 50
        )
        with running_worker(settings, store):
            # Several probes fail: the breaker opens again each time.
            wait_until(lambda: receiver.count() >= 5, timeout=15, message="probes")
            assert [t for t, _ in notes(store, 1)] == ["endpoint.failing"]
            receiver.behaviour = lambda n, req: Reply()
            wait_until(
                lambda: [t for t, _ in notes(store, 1)] == ["endpoint.failing", "endpoint.recovered"],
                timeout=15,
                message="recovered",
            )
    # A second incident is told again.
    assert store.call(raising.breaker_opened, 1, 3) is True
    assert store.call(raising.breaker_opened, 1, 3) is False
    assert store.call(raising.breaker_closed, 1) is True and store.call(raising.breaker_closed, 1) is False


def test_gone_disables_with_one_notification_and_no_delivery_failed(pms_db):
    store = pms_db.store
    with Receiver(always(410)) as gone_rx, Receiver(accept) as crm:
        gone = add_endpoint(store, "gone", gone_rx.url)
        add_event(store)
        with running_worker(delivery_settings(crm.url, retry_schedule=()), store):
            wait_until(lambda: notes(store, gone), message="notified")
    assert notes(store, gone) == [("endpoint.disabled", {"reason": "gone"})]


def test_a_delivery_that_gives_up_is_notified(pms_db):
    store = pms_db.store
    with Receiver(always(500)) as receiver:
        event_id = add_event(store)
        with running_worker(delivery_settings(receiver.url, retry_schedule=(0,)), store):
            wait_until(lambda: statuses(store)[event_id] == "failed", message="failed")
            wait_until(lambda: notes(store, 1), message="notified")
    assert notes(store, 1) == [
        (
            "delivery.failed",
            {"event_id": event_id, "type": "guest.updated", "last_error": "HTTP 500", "last_status_code": 500},
        )
    ]


def test_notifications_are_pushed_signed_to_the_ops_webhook_with_retries(pms_db):
    store = pms_db.store
    secret = new_secret()
    # The ops webhook fails twice, then takes them.
    with Receiver(lambda n, req: Reply(status=500) if n < 2 else Reply()) as ops_rx, Receiver(accept) as crm:
        store.call(raising.endpoint_disabled, 1, "manual")
        settings = dataclasses.replace(
            delivery_settings(crm.url, retry_schedule=(0, 0, 0)),
            ops_webhook_url=ops_rx.url,
            ops_webhook_secrets=(secret,),
        )
        with running_worker(settings, store):
            wait_until(lambda: store.call(lambda: Notification.get().ops_status) == OPS_SENT, message="pushed")
        first, second, third = ops_rx.received
    body = Webhook(secret).verify(third.body, third.headers)
    assert body["type"] == "endpoint.disabled" and body["payload"]["data"] == {"reason": "manual"}
    assert third.webhook_id == first.webhook_id == second.webhook_id
    assert len(notes(store)) == 1  # the failing ops webhook raised nothing


@pytest.mark.gen_test
async def test_the_list_newest_first_by_type_and_since_id(http_client, base_url, pms_db):
    store = pms_db.store
    store.call(raising.endpoint_disabled, 1, "manual")
    store.call(raising.breaker_opened, 1, 5)
    store.call(raising.breaker_closed, 1)
    r = await call(http_client, base_url, "GET", "/api/v1/notifications")
    assert r.code == 200
    body = json_of(r)
    assert [n["type"] for n in body["data"]] == ["endpoint.recovered", "endpoint.failing", "endpoint.disabled"]
    assert set(body["data"][0]) == {"id", "type", "endpoint_id", "data", "created_at"}
    first = body["data"][-1]["id"]
    r = await call(http_client, base_url, "GET", "/api/v1/notifications?type=endpoint.failing")
    assert [n["data"] for n in json_of(r)["data"]] == [{"failure_count": 5}]
    r = await call(http_client, base_url, "GET", f"/api/v1/notifications?since_id={first}")
    assert [n["type"] for n in json_of(r)["data"]] == ["endpoint.failing", "endpoint.recovered"]
    r = await call(http_client, base_url, "GET", "/api/v1/notifications?limit=1")
    assert len(json_of(r)["data"]) == 1 and json_of(r)["next_cursor"]
    r = await call(http_client, base_url, "GET", "/api/v1/notifications?type=nope")
    assert r.code == 422
