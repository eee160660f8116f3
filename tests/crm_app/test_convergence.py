"""Convergence: any delivery order, with any duplicates, ends in the in-order state.

A simulated PMS history (several guests, reservation creates, updates, cancellations, moves
and deletes, guest deletes) is delivered in order, then shuffled with duplicates many times
(seeded), through the real unit of work, alone and in group-commit batches; the final state
(profiles, guest records and tombstones, reservation mirror and tombstones, the audit log's
set of events, erasure) must equal the in-order one every time.
"""

from __future__ import annotations

import random

from core.pagination import PageRequest
from crm_app.models import PERSONAL_FIELDS, Event, GuestProfile, ReservationMirror
from crm_app.services.profiles import list_profiles
from crm_app.services.receiver import receive_batch, receive_one
from tests.crm_app.history import BASE_DAY, history

TODAY = BASE_DAY  # dated stats frozen so the comparison is about order only


def snapshot() -> dict:
    profiles, cursor = list_profiles(PageRequest(limit=500), today=TODAY)
    assert cursor is None
    for p in profiles:
        p.pop("updated_at")
    guests = [
        (g.guest_id, g.version, g.deleted, g.email, g.name, g.phone, g.date_of_birth, g.country)
        for g in GuestProfile.select().where(GuestProfile.version.is_null(False)).order_by(GuestProfile.guest_id)
    ]
    mirrors = [
        (
            m.reservation_id,
            m.guest_id,
            m.version,
            m.deleted,
            m.check_in,
            m.check_out,
            m.status,
            m.total_amount,
            m.currency,
        )
        for m in ReservationMirror.select().order_by(ReservationMirror.reservation_id)
    ]
    webhook_ids = sorted(e.webhook_id for e in Event.select(Event.webhook_id))
    return {"profiles": profiles, "guests": guests, "mirrors": mirrors, "events": webhook_ids}


def erased_guest_ids() -> set[int]:
    return {g.guest_id for g in GuestProfile.select().where(GuestProfile.deleted == True)}  # noqa: E712


def assert_erasure_complete() -> None:
    erased = erased_guest_ids()
    for event in Event.select().where(Event.guest_id.in_(list(erased) or [0])):
        assert all(event.payload.get(f) is None for f in PERSONAL_FIELDS), (event.type, event.payload)


def deliver(crm_db, events, rng: random.Random | None) -> None:
    if rng is None:
        for incoming in events:
            crm_db.store.call(receive_one, incoming, transaction=False)
        return
    i = 0
    while i < len(events):
        size = rng.choice([1, 1, 2, 5, 12])
        outcomes = crm_db.store.call(receive_batch, events[i : i + size], transaction=False)
        assert not any(isinstance(o, BaseException) for o in outcomes), outcomes
        i += size


def shuffled_with_duplicates(events, rng: random.Random) -> list:
    copies = list(events) + [rng.choice(events) for _ in range(len(events) // 3)]
    rng.shuffle(copies)
    return copies


def test_any_order_with_duplicates_converges_to_in_order_state(crm_db):
    mysql = crm_db.backend == "mysql"
    # Three histories on SQLite; one smaller one on MariaDB, where each commit is an fsync.
    for seed in [1] if mysql else [1, 2, 3]:
        check_history(crm_db, seed, steps=40 if mysql else 120, trials=4 if mysql else 12)


def check_history(crm_db, seed: int, steps: int, trials: int) -> None:
    crm_db.truncate()
    events = history(seed, steps=steps)
    assert {e.type for e in events} >= {
        "guest.created",
        "guest.updated",
        "guest.deleted",
        "reservation.created",
        "reservation.updated",
        "reservation.deleted",
    }
    deliver(crm_db, events, None)
    expected = crm_db.store.call(snapshot)
    assert expected["profiles"], "the history should leave some profiles"
    assert any(g[2] for g in expected["guests"]), "the history should delete some guests"
    crm_db.store.call(assert_erasure_complete)

    rng = random.Random(seed * 1000)
    for trial in range(trials):
        crm_db.truncate()
        deliver(crm_db, shuffled_with_duplicates(events, rng), rng)
        assert crm_db.store.call(snapshot) == expected, f"trial {trial} diverged"
        crm_db.store.call(assert_erasure_complete)
