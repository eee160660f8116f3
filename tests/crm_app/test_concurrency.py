"""Concurrent deliveries: copies of one webhook racing, and many events for one guest at once.

Run through real connections (HTTP to the real server, and threads each holding their own
database connection) so MariaDB's duplicate-key waits and deadlocks actually happen.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from tornado.httpclient import AsyncHTTPClient

from crm_app.models import Event, GuestProfile, ReservationMirror
from crm_app.services.receiver import receive_one
from tests.crm_app.webhook_factory import WEBHOOK_PATH, envelope, guest, incoming, reservation, signed_request
from tests.support.http import json_of

COPIES = 24


@pytest.mark.gen_test(timeout=60)
async def test_copies_of_one_webhook_at_once_over_http_apply_once(crm_db, http_server, base_url):
    import asyncio

    webhook_id, body = envelope("reservation.created", reservation(7, 3))
    raw = json.dumps(body).encode()
    headers = signed_request(raw, webhook_id)
    client = AsyncHTTPClient(force_instance=True, max_clients=COPIES)
    try:
        responses = await asyncio.gather(
            *[
                client.fetch(base_url + WEBHOOK_PATH, method="POST", body=raw, headers=headers, raise_error=False)
                for _ in range(COPIES)
            ]
        )
    finally:
        client.close()
    codes = sorted(r.code for r in responses)
    assert codes == [200] * (COPIES - 1) + [202], [r.body for r in responses]
    statuses = sorted(json_of(r)["data"]["status"] for r in responses)
    assert statuses == ["accepted"] + ["duplicate"] * (COPIES - 1)
    state = crm_db.store.call(lambda: (Event.select().count(), GuestProfile.get_by_id(3).total_reservations))
    assert state == (1, 1)


def race(crm_db, units) -> list:
    """Start every unit at the same moment, each on its own thread and connection."""
    barrier = threading.Barrier(len(units))

    def run(item):
        barrier.wait()
        return crm_db.store.call(receive_one, item, transaction=False)

    with ThreadPoolExecutor(max_workers=len(units)) as pool:
        return list(pool.map(run, units))


def test_copies_racing_in_the_database_give_one_accepted(crm_db):
    copy = incoming("guest.created", guest(5))
    outcomes = race(crm_db, [copy] * 16)
    assert sorted(o.status for o in outcomes) == ["accepted"] + ["duplicate"] * 15
    assert crm_db.store.call(lambda: Event.select().count()) == 1


def test_many_events_for_one_guest_at_once_lose_no_update(crm_db):
    events = [
        incoming(
            "reservation.created",
            reservation(100 + i, 9, check_in="2026-03-01", check_out="2026-03-04", total_amount="10.00"),
        )
        for i in range(16)
    ]
    events.append(incoming("guest.created", guest(9)))
    outcomes = race(crm_db, events)
    assert {o.status for o in outcomes} == {"accepted"}
    profile = crm_db.store.call(GuestProfile.get_by_id, 9)
    assert (
        profile.total_reservations,
        profile.total_nights,
        profile.lifetime_value,
        profile.tier,
        profile.version,
    ) == (16, 48, {"USD": "160.00"}, "vip", 1)


def test_moves_between_two_guests_at_once_keep_both_profiles_exact(crm_db):
    for i in range(8):
        crm_db.store.call(
            receive_one, incoming("reservation.created", reservation(i + 1, 1 + i % 2)), transaction=False
        )
    moves = [incoming("reservation.updated", reservation(i + 1, 2 - i % 2, version=2)) for i in range(8)]
    race(crm_db, moves)
    totals = crm_db.store.call(lambda: {g.guest_id: g.total_reservations for g in GuestProfile.select()})
    assert totals == {1: 4, 2: 4}
    owners = crm_db.store.call(lambda: {m.reservation_id: m.guest_id for m in ReservationMirror.select()})
    assert owners == {i + 1: 2 - i % 2 for i in range(8)}


def test_webhook_ids_differing_only_in_case_are_distinct(crm_db):
    first = crm_db.store.call(receive_one, incoming("guest.created", guest(1), webhook_id="Evt-ABC"), transaction=False)
    second = crm_db.store.call(
        receive_one, incoming("guest.created", guest(2), webhook_id="evt-abc"), transaction=False
    )
    third = crm_db.store.call(
        receive_one, incoming("guest.created", guest(3), webhook_id="evt-abc "), transaction=False
    )
    assert [first.status, second.status, third.status] == ["accepted"] * 3
    assert crm_db.store.call(lambda: Event.select().count()) == 3
