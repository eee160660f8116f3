"""A change and its outbox event commit together or not at all (services, no HTTP)."""

import pytest

from pms_app import outbox
from pms_app.models import Guest, OutboxEvent, Reservation
from pms_app.services import guests, reservations
from pms_app.validation import validate_guest


def counts(store):
    return store.call(lambda: (Guest.select().count(), Reservation.select().count(), OutboxEvent.select().count()))


def test_failing_event_write_rolls_back_the_change(pms_db, monkeypatch):
    store = pms_db.store
    guest = store.call(guests.create_guest, validate_guest({"email": "a@example.com", "name": "A"}))

    def broken(*_args, **_kwargs):
        raise RuntimeError("outbox write failed")

    monkeypatch.setattr("pms_app.services.guests.record_event", broken)
    monkeypatch.setattr("pms_app.services.reservations.record_event", broken)
    with pytest.raises(RuntimeError):
        store.call(guests.create_guest, validate_guest({"email": "b@example.com", "name": "B"}))
    with pytest.raises(RuntimeError):
        store.call(guests.update_guest, guest["id"], {"name": "Changed"})
    with pytest.raises(RuntimeError):
        store.call(
            reservations.create_reservation,
            {"guest_id": guest["id"], "check_in": "2027-01-01", "check_out": "2027-01-02"},
        )
    with pytest.raises(RuntimeError):
        store.call(guests.delete_guest, guest["id"])
    assert counts(store) == (1, 0, 1)
    assert store.call(guests.get_guest, guest["id"]) == guest


def test_failing_change_writes_no_event(pms_db, monkeypatch):
    store = pms_db.store
    guest = store.call(guests.create_guest, validate_guest({"email": "a@example.com", "name": "A"}))
    store.call(
        reservations.create_reservation, {"guest_id": guest["id"], "check_in": "2027-01-01", "check_out": "2027-01-02"}
    )
    calls = []
    original = outbox.record_event

    def record_then_fail_later(*args, **kwargs):
        calls.append(args[0])
        event = original(*args, **kwargs)
        if args[0] == "guest.deleted":
            raise RuntimeError("crash after the last event of the unit of work")
        return event

    monkeypatch.setattr("pms_app.services.guests.record_event", record_then_fail_later)
    monkeypatch.setattr("pms_app.services.reservations.record_event", record_then_fail_later)
    with pytest.raises(RuntimeError):
        store.call(guests.delete_guest, guest["id"])
    assert calls == ["reservation.deleted", "guest.deleted"]
    # The reservation delete and both events were rolled back with the failing guest delete.
    assert counts(store) == (1, 1, 2)
