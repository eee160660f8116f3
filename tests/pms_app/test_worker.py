"""The delivery worker against real HTTP receivers: claims, attempts, retries, fencing, shutdown."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from pms_app.delivery import claims
from pms_app.models import DELIVERED, DELIVERING, FAILED, PENDING, DeliveryAttempt, OutboxEvent
from tests.support.delivery import SECRET, add_event, delivery_settings, event, running_worker, statuses
from tests.support.receivers import Receiver, accept, always, redirect, slow, wait_until


def attempts(store, event_id):
    return store.call(lambda: list(DeliveryAttempt.select().where(DeliveryAttempt.event_id == event_id)
                                   .order_by(DeliveryAttempt.id)))


def test_delivers_a_signed_envelope(pms_db):
    store = pms_db.store
    with Receiver(accept) as receiver:
        event_id = add_event(store, entity_id=7, version=3)
        with running_worker(delivery_settings(receiver.url), store):
            wait_until(lambda: event(store, event_id).status == DELIVERED, message="delivery")
        req = receiver.received[0]
        row = event(store, event_id)
    assert req.headers["webhook-id"] == event_id
    envelope = json.loads(req.body)
    assert envelope == {"type": "guest.updated", "idempotency_key": event_id,
                        "timestamp": envelope["timestamp"], "payload": row.payload}
    assert abs(envelope["timestamp"] - row.occurred_at.timestamp() * 1000) < 1000 * 86400  # sanity
    # Any Standard Webhooks library verifies it (the secret's UTF-8 bytes are the key).
    import base64
    wh = Webhook(base64.b64encode(SECRET.encode()).decode())
    assert wh.verify(req.body, {k: v for k, v in req.headers.items()}) == envelope
    assert row.attempt_count == 1 and row.delivered_at is not None
    assert row.claimed_by is None and row.lease_until is None
    (attempt,) = attempts(store, event_id)
    assert attempt.attempt == 1 and attempt.status_code == 202 and attempt.error is None
    assert attempt.response_body == '{"data":{"status":"accepted"}}'
