"""End to end through the real CRM app: outage and recovery, replay answered ``duplicate``."""

from __future__ import annotations

import json

import pytest

from crm_app.app import make_app as make_crm_app
from crm_app.config import CrmSettings
from crm_app.models import Event, GuestProfile
from pms_app.models import DELIVERED, DeliveryAttempt, OutboxEvent
from pms_app.operators import Actor
from pms_app.services import deliveries, guests, reservations
from tests.support.delivery import SECRET, delivery_settings, event, running_worker, statuses
from tests.support.receivers import ServedApp, wait_until


@pytest.fixture
def crm(crm_db, pms_db):
    served = ServedApp(lambda: make_crm_app(CrmSettings(webhook_secrets=(SECRET,)), store=crm_db.store))
    yield served
    served.stop()


def crm_events(crm_db) -> list:
    return crm_db.store.call(lambda: [e.__data__ for e in Event.select().order_by(Event.id)])


def all_delivered(store):
    return lambda: set(statuses(store).values()) == {DELIVERED}


def make_history(store, n_guests=6):
    made = []
    for i in range(n_guests):
        guest = store.call(guests.create_guest, {"email": f"e2e{i}@example.com", "name": f"Guest {i}"})
        store.call(guests.update_guest, guest["id"], {"name": f"Guest {i} renamed", "country": "PT"})
        store.call(
            reservations.create_reservation,
            {
                "guest_id": guest["id"],
                "check_in": f"2030-01-{1 + i:02d}",
                "check_out": f"2030-01-{3 + i:02d}",
                "total_amount": "200.00",
                "currency": "USD",
                "adults": 2,
                "room_number": "10",
            },
        )
        made.append(guest["id"])
    store.call(guests.delete_guest, made[-1])
    return made


def test_crm_outage_then_recovery_applies_everything_once(pms_db, crm_db, crm):
    store = pms_db.store
    settings = delivery_settings(
        crm.url,
        breaker_failure_threshold=3,
        breaker_recovery_seconds=1,
        retry_schedule=(0, 1, 1, 1, 1, 1, 1, 1),
        delivery_concurrency=4,
    )
    with running_worker(settings, store) as worker:
        made = make_history(store)  # the CRM is down: nothing answers on its port
        wait_until(lambda: worker.breaker.state != "closed", message="breaker open during the outage")
        assert DELIVERED not in statuses(store).values()
        crm.start()
        wait_until(all_delivered(store), timeout=30, message="backlog drained after recovery")
    outbox = store.call(lambda: {e.id: e for e in OutboxEvent.select()})
    received = crm_events(crm_db)
    assert sorted(e["webhook_id"] for e in received) == sorted(outbox)  # each applied exactly once
    assert {e["status"] for e in received} <= {"processed", "stale"}
    profiles = crm_db.store.call(lambda: {p.guest_id: p for p in GuestProfile.select()})
    for guest_id in made[:-1]:
        pms_guest = store.call(guests.get_guest, guest_id)
        assert profiles[guest_id].name == pms_guest["name"]
        assert profiles[guest_id].version == pms_guest["version"]


def test_replay_of_a_delivered_event_is_a_duplicate_and_changes_nothing(pms_db, crm_db, crm):
    store = pms_db.store
    crm.start()
    guest = store.call(guests.create_guest, {"email": "replay@example.com", "name": "Replay Me"})
    with running_worker(delivery_settings(crm.url), store):
        wait_until(all_delivered(store), message="first delivery")
        (event_id,) = statuses(store)
        before_events = crm_events(crm_db)
        before_profile = crm_db.store.call(lambda: GuestProfile.get(GuestProfile.guest_id == guest["id"]).__data__)
        store.call(deliveries.replay, Actor(), event_id)
        wait_until(
            lambda: (
                event(store, event_id).status == DELIVERED
                and store.call(lambda: DeliveryAttempt.select().where(DeliveryAttempt.event_id == event_id).count())
                == 2
            ),
            message="replayed delivery",
        )
    first, second = store.call(
        lambda: list(DeliveryAttempt.select().where(DeliveryAttempt.event_id == event_id).order_by(DeliveryAttempt.id))
    )
    assert first.status_code == 202 and json.loads(first.response_body)["data"]["status"] == "accepted"
    assert second.status_code == 200
    assert json.loads(second.response_body)["data"] == {"status": "duplicate", "id": event_id}
    assert crm_events(crm_db) == before_events
    assert crm_db.store.call(lambda: GuestProfile.get(GuestProfile.guest_id == guest["id"]).__data__) == before_profile
