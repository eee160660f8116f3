"""Fan-out: one event, stored once, delivered to every matching endpoint with that endpoint's
secret; disabled endpoints hold theirs; per-entity order holds per endpoint, not across them."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from pms_app.delivery import claims
from pms_app.endpoints.matching import matches
from pms_app.models import DELIVERED, FAILED, HELD, PENDING, Delivery, OutboxEvent
from tests.support.delivery import add_event, delivery_settings, running_worker, statuses
from tests.support.endpoints import add_endpoint, new_secret
from tests.support.receivers import Receiver, accept, always, wait_until

EVENTS = [
    ("guest", "created"),
    ("guest", "deleted"),
    ("reservation", "created"),
    ("reservation", "deleted"),
    ("guest", "updated"),
]


@pytest.mark.parametrize(
    "patterns, event_type, expected",
    [
        ([], "guest.created", True),
        (["guest.*"], "guest.deleted", True),
        (["guest.*"], "reservation.created", False),
        (["*.deleted"], "reservation.deleted", True),
        (["*.deleted"], "reservation.updated", False),
        (["reservation.created", "guest.updated"], "guest.updated", True),
        (["guest.created"], "guest.createdx", False),
        (["guest?created"], "guest.created", False),  # only * is special
        (["*"], "endpoint.ping", True),
    ],
)
def test_event_type_globs(patterns, event_type, expected):
    assert matches(patterns, event_type) is expected


def test_three_endpoints_each_get_exactly_their_events_signed_with_their_own_secret(pms_db):
    store = pms_db.store
    secrets = {"guests": new_secret(), "deletions": new_secret(), "everything": new_secret()}
    filters = {"guests": ["guest.*"], "deletions": ["*.deleted"], "everything": []}
    with (
        Receiver(accept) as guests_rx,
        Receiver(accept) as deletions_rx,
        Receiver(accept) as all_rx,
        Receiver(accept) as crm,
    ):
        receivers = {"guests": guests_rx, "deletions": deletions_rx, "everything": all_rx}
        ids = {
            name: add_endpoint(store, name, receivers[name].url, filters[name], secrets=[secrets[name]])
            for name in receivers
        }
        made = {
            add_event(store, entity_id=i + 1, kind=kind, action=action): f"{kind}.{action}"
            for i, (kind, action) in enumerate(EVENTS)
        }
        with running_worker(delivery_settings(crm.url), store):
            wait_until(
                lambda: (
                    all(set(statuses(store, ids[n]).values()) == {DELIVERED} for n in ids)
                    and set(statuses(store).values()) == {DELIVERED}
                ),
                message="every delivery made",
            )
        assert set(crm.hits) == set(made)
        for name, receiver in receivers.items():
            wanted = {e for e, t in made.items() if matches(filters[name], t)}
            assert set(receiver.hits) == wanted and all(n == 1 for n in receiver.hits.values())
            webhook = Webhook(secrets[name])
            for request in receiver.received:
                # Each receiver verifies with its own secret, and only with it.
                assert webhook.verify(request.body, request.headers)["idempotency_key"] == request.webhook_id
                other = Webhook(secrets["guests" if name != "guests" else "deletions"])
                with pytest.raises(WebhookVerificationError):
                    other.verify(request.body, request.headers)
    # Stored once; one delivery per matching endpoint (endpoint 1, the CRM here too, takes all).
    assert store.call(lambda: OutboxEvent.select().count()) == len(made)
    per_endpoint = store.call(lambda: sorted(d.endpoint_id for d in Delivery.select()))
    assert per_endpoint.count(ids["guests"]) == 3 and per_endpoint.count(ids["deletions"]) == 2
    assert per_endpoint.count(ids["everything"]) == 5 and per_endpoint.count(1) == 5
    # The webhook-id is the event's id for every endpoint.
    assert set(deletions_rx.hits) <= set(all_rx.hits)


def test_a_disabled_endpoint_holds_its_deliveries(pms_db):
    store = pms_db.store
    with Receiver(accept) as crm, Receiver(accept) as off:
        disabled = add_endpoint(store, "off", off.url, enabled=False)
        event_id = add_event(store)
        with running_worker(delivery_settings(crm.url), store):
            wait_until(lambda: statuses(store).get(event_id) == DELIVERED, message="the CRM's copy")
        assert off.count() == 0
    assert statuses(store, disabled) == {event_id: HELD}


def test_an_endpoint_created_later_gets_only_later_events(pms_db):
    store = pms_db.store
    before = add_event(store, entity_id=1)
    late = add_endpoint(store, "late", "http://127.0.0.1:9/late")
    after = add_event(store, entity_id=2)
    assert statuses(store, late) == {after: PENDING}
    assert set(statuses(store)) == {before, after}


def test_per_entity_order_is_per_endpoint(pms_db):
    store = pms_db.store
    other = add_endpoint(store, "other", "http://127.0.0.1:9/other")
    first = add_event(store, entity_id=5, version=1)
    second = add_event(store, entity_id=5, version=2)
    # The CRM's copy of version 1 is in flight: its version 2 waits, the other endpoint's does not.
    (claim,) = [c for c in store.call(claims.claim_due, "w", 1, 30, transaction=False)]
    assert (claim.id, claim.endpoint_id) == (first, 1)
    more = store.call(claims.claim_due, "w", 10, 30, transaction=False)
    assert {(c.id, c.endpoint_id) for c in more} == {(first, other)}
    # Version 1 to the CRM failed and waits out a retry delay: version 2 still waits behind it.
    later = claims.AttemptRecord(claim.lease_until, 500, 3, "HTTP 500", None, False)
    import datetime as dt

    assert store.call(claims.record_attempt, claim, later, claim.lease_until + dt.timedelta(hours=1))
    assert store.call(claims.claim_due, "w", 10, 30, transaction=False) == []
    # Once it failed for good, it no longer blocks.
    store.call(
        lambda: (
            Delivery.update(status=FAILED).where((Delivery.event_id == first) & (Delivery.endpoint_id == 1)).execute()
        )
    )
    (next_claim,) = store.call(claims.claim_due, "w", 10, 30, transaction=False)
    assert (next_claim.id, next_claim.endpoint_id) == (second, 1)


def test_deliveries_show_endpoint_and_last_outcome(pms_db):
    store = pms_db.store
    with Receiver(always(418)) as receiver:
        event_id = add_event(store)
        with running_worker(delivery_settings(receiver.url, retry_schedule=()), store):
            wait_until(lambda: statuses(store).get(event_id) == FAILED, message="failed")
    from pms_app.services.deliveries import get_delivery

    detail = store.call(get_delivery, event_id)
    assert (detail["endpoint_id"], detail["last_status_code"], detail["last_error"]) == (1, 418, "HTTP 418")
    assert json.loads(json.dumps(detail))["attempts"][0]["status_code"] == 418


def test_endpoint_1_follows_the_configuration_until_edited_through_the_api(pms_db):
    from pms_app.endpoints import crm
    from pms_app.endpoints.models import Endpoint, EndpointSecret

    store = pms_db.store

    def endpoint_1():
        row = Endpoint.get_by_id(1)
        secrets = [
            s.secret for s in EndpointSecret.select().where(EndpointSecret.endpoint == 1).order_by(EndpointSecret.id)
        ]
        return row.name, row.url, secrets

    with Receiver(accept) as receiver:
        with running_worker(delivery_settings(receiver.url, crm_webhook_secrets=("a", "b")), store):
            assert store.call(endpoint_1) == ("crm", receiver.url, ["a", "b"])
    # Once edited through the API, the variables no longer move it.
    store.call(lambda: Endpoint.update(from_config=False, url="http://edited/").where(Endpoint.id == 1).execute())
    store.call(crm.sync, "http://from-env/", ("c",))
    assert store.call(endpoint_1) == ("crm", "http://edited/", ["a", "b"])
