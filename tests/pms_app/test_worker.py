"""The delivery worker against real HTTP receivers: attempts, retries, faults, fencing, shutdown."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from standardwebhooks.webhooks import Webhook

from core.db import utcnow
from pms_app.delivery import claims
from pms_app.delivery.worker import DeliveryWorker
from pms_app.models import DELIVERED, DELIVERING, FAILED, PENDING, BreakerState, DeliveryAttempt, OutboxEvent
from pms_app.services import guests
from tests.support.delivery import FAST, SECRET, add_event, delivery_settings, event, running_worker, statuses
from tests.support.receivers import Receiver, Reply, accept, rate_limited, redirect, slow, wait_until


def attempts(store, event_id):
    return store.call(
        lambda: list(DeliveryAttempt.select().where(DeliveryAttempt.event_id == event_id).order_by(DeliveryAttempt.id))
    )


def settled(store, event_id, status):
    return lambda: event(store, event_id).status == status


def test_delivers_a_signed_envelope_that_standard_webhooks_verifies(pms_db):
    store = pms_db.store
    with Receiver(accept) as receiver:
        event_id = add_event(store, entity_id=7, version=3)
        with running_worker(delivery_settings(receiver.url), store):
            wait_until(settled(store, event_id, DELIVERED), message="delivery")
        (req,) = receiver.received
    row = event(store, event_id)
    stored = store.call(lambda: OutboxEvent.get(OutboxEvent.id == event_id))
    assert req.headers["webhook-id"] == event_id
    assert req.headers["content-type"] == "application/json"
    envelope = json.loads(req.body)
    occurred_ms = int(stored.occurred_at.replace(tzinfo=dt.UTC).timestamp() * 1000)
    assert envelope == {
        "type": "guest.updated",
        "idempotency_key": event_id,
        "timestamp": occurred_ms,
        "payload": stored.payload,
    }
    # A Standard Webhooks library verifies it (a plain secret's key is its UTF-8 bytes).
    webhook = Webhook(base64.b64encode(SECRET.encode()).decode())
    assert webhook.verify(req.body, req.headers) == envelope
    assert row.attempt_count == 1 and row.delivered_at is not None
    assert row.claimed_by is None and row.lease_until is None
    (attempt,) = attempts(store, event_id)
    assert (attempt.attempt, attempt.status_code, attempt.error) == (1, 202, None)
    assert attempt.response_body == '{"data":{"status":"accepted"}}'
    assert attempt.duration_ms >= 0


def test_every_secret_signs(pms_db):
    store = pms_db.store
    secrets = ("old-secret", "whsec_" + base64.b64encode(b"new-key-bytes").decode())
    with Receiver(accept) as receiver:
        event_id = add_event(store)
        with running_worker(delivery_settings(receiver.url, crm_webhook_secrets=secrets), store):
            wait_until(settled(store, event_id, DELIVERED), message="delivery")
        (req,) = receiver.received
    assert len(req.headers["webhook-signature"].split()) == 2
    for key in (b"old-secret", b"new-key-bytes"):
        Webhook(base64.b64encode(key).decode()).verify(req.body, req.headers)


def test_a_change_that_rolled_back_is_never_sent(pms_db):
    store = pms_db.store

    def create_then_fail():
        guests.create_guest({"email": "rolled@example.com", "name": "Rolled Back"})
        raise RuntimeError("the request failed after writing")

    with Receiver(accept) as receiver:
        with pytest.raises(RuntimeError):
            store.call(create_then_fail)
        committed = store.call(guests.create_guest, {"email": "kept@example.com", "name": "Kept"})
        with running_worker(delivery_settings(receiver.url), store):
            wait_until(lambda: receiver.count() >= 1, message="the committed event")
            wait_until(lambda: all(s == DELIVERED for s in statuses(store).values()), message="settled")
        envelopes = receiver.envelopes()
    assert [e["payload"]["email"] for e in envelopes] == ["kept@example.com"]
    assert envelopes[0]["payload"]["id"] == committed["id"]
    assert len(statuses(store)) == 1


def test_failures_follow_the_schedule_then_the_event_is_failed(pms_db):
    store = pms_db.store
    big = b"x" * 5000
    with Receiver(lambda n, req: Reply(status=500, body=big)) as receiver:
        event_id = add_event(store)
        with running_worker(delivery_settings(receiver.url, retry_schedule=(0, 0, 0)), store):
            wait_until(settled(store, event_id, FAILED), message="failed")
        assert receiver.hits_of(event_id) == 4  # the first attempt and three retries
    row = event(store, event_id)
    assert row.attempt_count == 4 and row.last_error == "HTTP 500" and row.delivered_at is None
    rows = attempts(store, event_id)
    assert [a.attempt for a in rows] == [1, 2, 3, 4]
    assert all(a.status_code == 500 and a.error == "HTTP 500" for a in rows)
    assert all(len(a.response_body) == 2048 for a in rows)  # cut to 2 KiB


def test_a_redirect_is_a_failure_and_is_not_followed(pms_db):
    store = pms_db.store
    with Receiver(accept) as target, Receiver(redirect(target.url, status=307)) as receiver:
        event_id = add_event(store)
        with running_worker(delivery_settings(receiver.url, retry_schedule=()), store):
            wait_until(settled(store, event_id, FAILED), message="failed")
        assert target.count() == 0
    (attempt,) = attempts(store, event_id)
    assert attempt.status_code == 307 and "redirect" in attempt.error


def test_a_timeout_is_a_failure(pms_db):
    store = pms_db.store
    with Receiver(slow(3.0)) as receiver:
        event_id = add_event(store)
        settings = delivery_settings(receiver.url, retry_schedule=(0,), delivery_timeout_seconds=0.3)
        with running_worker(settings, store):
            wait_until(settled(store, event_id, FAILED), message="failed")
        assert receiver.hits_of(event_id) == 2
    rows = attempts(store, event_id)
    assert [a.status_code for a in rows] == [None, None]
    assert all("timed out" in a.error for a in rows)


def test_a_connection_error_is_a_failure(pms_db):
    store = pms_db.store
    receiver = Receiver(accept)  # bound but never started: the port refuses nothing, then is closed
    url = receiver.url
    receiver._sock.close()
    event_id = add_event(store)
    with running_worker(delivery_settings(url, retry_schedule=()), store):
        wait_until(settled(store, event_id, FAILED), message="failed")
    (attempt,) = attempts(store, event_id)
    assert attempt.status_code is None and "ConnectionError" in attempt.error


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(pms_db, status):
    store = pms_db.store
    with Receiver(rate_limited("2", times=1, status=status)) as receiver:
        event_id = add_event(store)
        # The schedule says retry at once; Retry-After asks for 2 s (within the longest step, 5 s).
        with running_worker(delivery_settings(receiver.url, retry_schedule=(0, 5)), store):
            wait_until(settled(store, event_id, DELIVERED), timeout=15, message="delivery")
        first, second = receiver.received
    assert second.at - first.at >= 1.9
    assert [a.status_code for a in attempts(store, event_id)] == [status, 202]


def test_events_of_one_entity_go_out_in_order(pms_db):
    store = pms_db.store
    with Receiver(slow(0.01)) as receiver:
        ids = [add_event(store, entity_id=5, version=v) for v in range(1, 16)]
        others = [add_event(store, entity_id=100 + i, version=1) for i in range(10)]
        # Same numeric id, other kind: a reservation is not held back by guest 5's events.
        reservation = add_event(store, entity_id=5, version=1, kind="reservation")
        with running_worker(delivery_settings(receiver.url, delivery_concurrency=8), store):
            wait_until(lambda: all(s == DELIVERED for s in statuses(store).values()), message="all delivered")
        versions = [
            e["payload"]["version"]
            for e in receiver.envelopes()
            if e["type"].startswith("guest.") and e["payload"]["id"] == 5
        ]
    assert versions == list(range(1, 16))
    assert receiver.hits.keys() == set(ids + others + [reservation])


def test_an_expired_lease_is_taken_over(pms_db):
    store = pms_db.store
    event_id = add_event(store)
    # A worker that died right after claiming: its claim (lease 0.3 s) is never completed.
    (dead,) = store.call(claims.claim_due, "dead-worker", 10, 0.3, transaction=False)
    assert event(store, event_id).status == DELIVERING
    with Receiver(accept) as receiver:
        with running_worker(delivery_settings(receiver.url), store):
            wait_until(settled(store, event_id, DELIVERED), message="takeover")
        assert receiver.hits_of(event_id) == 1
    # The dead worker's late result cannot overwrite the new owner's.
    late = claims.AttemptRecord(utcnow(), 500, 5, "HTTP 500", None, False)
    assert store.call(claims.record_attempt, dead, late, None) is False
    row = event(store, event_id)
    # It changes nothing but the count: attempt_count counts every attempt listed, this one too.
    assert row.status == DELIVERED and row.attempt_count == 2 and row.delivered_at is not None
    made = attempts(store, event_id)
    assert [a.attempt for a in made] == [1, 2] and "result discarded" in made[-1].error


def test_claims_are_exclusive_and_fenced(pms_db):
    store = pms_db.store
    ids = {add_event(store, entity_id=i) for i in range(6)}
    first = store.call(claims.claim_due, "a", 4, 30, transaction=False)
    second = store.call(claims.claim_due, "b", 4, 30, transaction=False)
    assert len(first) == 4 and len(second) == 2
    assert {c.id for c in first} | {c.id for c in second} == ids
    assert store.call(claims.claim_due, "c", 4, 30, transaction=False) == []
    # Releasing gives the event back; a second release of the same claim changes nothing.
    assert store.call(claims.release, first[0]) is True
    assert store.call(claims.release, first[0]) is False
    assert event(store, first[0].id).status == PENDING


def test_graceful_stop_finishes_in_flight_attempts(pms_db):
    store = pms_db.store
    with Receiver(slow(0.5)) as receiver:
        ids = [add_event(store, entity_id=i) for i in range(3)]
        worker_ctx = running_worker(delivery_settings(receiver.url), store)
        worker = worker_ctx.__enter__()
        wait_until(lambda: receiver.count() == 3, message="three in flight")
        worker_ctx.__exit__(None, None, None)
        assert worker.stopping
    assert {event(store, i).status for i in ids} == {DELIVERED}
    assert store.call(lambda: BreakerState.select().count()) == 0  # it left the status


def test_graceful_stop_releases_what_it_could_not_send(pms_db):
    store = pms_db.store
    with Receiver(accept) as receiver:
        worker = DeliveryWorker(delivery_settings(receiver.url), store, timing=FAST)  # not started
        event_id = add_event(store)
        (claim,) = store.call(claims.claim_due, worker.worker_id, 1, 30, transaction=False)
        # The stop begins after the claim was handed to a sender but before it sent anything.
        worker._stopping.set()
        worker._in_flight = 1
        worker._deliver(claim, worker.breaker.admit())
        worker._dispatch_loop()  # settles what the sender handed back, then leaves: all settled
        assert receiver.count() == 0
    row = event(store, event_id)
    assert row.status == PENDING and row.claimed_by is None and row.lease_until is None
    assert row.attempt_count == 0 and attempts(store, event_id) == []
