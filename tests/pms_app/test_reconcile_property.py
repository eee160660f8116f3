"""The reconciliation property: whatever was lost, one run and its delivery leave both sides equal.

Hypothesis draws a history of changes made through the real PMS services (guests and
reservations created, updated, deleted; a guest delete takes its reservations with it), then a
fate for every outbox event: delivered, given up (``failed``), or acknowledged and then lost
(``delivered`` without the CRM having it, as after restoring an old CRM backup), and an order
for the delivered ones, which the CRM's own unit of work applies. One reconciliation run
follows, and its repair events are delivered in another drawn order. Then both services'
manifests must be equal for both kinds, nothing may be reported unrepairable (the CRM only ever
got what the PMS sent), and a second run must find nothing.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_app.models import Event, GuestProfile, ReservationMirror
from pms_app.delivery.models import WorkerRecord
from pms_app.models import DELIVERED, FAILED, DeliveryAttempt, Guest, OutboxEvent, Reservation
from pms_app.services import guests, reservations
from pms_app.sync.models import SyncLease, SyncRun, Tombstone
from pms_app.sync.service import reconcile
from tests.support.sync import crm_side, deliver, lose, manifests, pending_events, pms_side

OPERATIONS = (
    "create_guest",
    "create_guest",
    "update_guest",
    "delete_guest",
    "create_reservation",
    "create_reservation",
    "update_reservation",
    "delete_reservation",
)
FATES = ("deliver", "deliver", "deliver", "give_up", "lost_after_ack")
PMS_TABLES = (DeliveryAttempt, OutboxEvent, Reservation, Guest, Tombstone, SyncRun, SyncLease, WorkerRecord)
CRM_TABLES = (Event, ReservationMirror, GuestProfile)
EXAMPLES = 50


def reset(pms_store, crm_store) -> None:
    """Empty the tables one example touches (ids keep growing: they are never reused anyway)."""
    pms_store.call(lambda: [model.delete().execute() for model in PMS_TABLES])
    crm_store.call(lambda: [model.delete().execute() for model in CRM_TABLES])


class History:
    """Applies drawn operations through the real services, choosing targets among live entities."""

    def __init__(self, store):
        self.store = store
        self.guests: list[int] = []
        self.reservations: dict[int, int] = {}  # reservation id -> guest id
        self.n = 0

    def apply(self, operation: str, pick: int) -> None:
        self.n += 1
        call = self.store.call
        if operation == "create_guest" or not self.guests:
            self.guests.append(
                call(guests.create_guest, {"email": f"p{self.n}-{pick}@example.com", "name": f"Guest {self.n}"})["id"]
            )
        elif operation == "update_guest":
            call(
                guests.update_guest,
                self.guests[pick % len(self.guests)],
                {"name": f"Renamed {self.n}", "phone": "+14155550100" if pick % 2 else None},
            )
        elif operation == "delete_guest":
            guest_id = self.guests.pop(pick % len(self.guests))
            call(guests.delete_guest, guest_id)
            self.reservations = {r: g for r, g in self.reservations.items() if g != guest_id}
        elif operation == "create_reservation":
            guest_id = self.guests[pick % len(self.guests)]
            made = call(
                reservations.create_reservation,
                {
                    "guest_id": guest_id,
                    "check_in": "2031-01-10",
                    "check_out": f"2031-01-{11 + pick % 9:02d}",
                    "total_amount": f"{100 + pick}.00",
                },
            )
            self.reservations[made["id"]] = guest_id
        elif self.reservations:
            reservation_id = sorted(self.reservations)[pick % len(self.reservations)]
            if operation == "update_reservation":
                new_guest = self.guests[pick % len(self.guests)]
                call(
                    reservations.update_reservation,
                    reservation_id,
                    {"status": ("confirmed", "checked_in", "cancelled")[pick % 3], "guest_id": new_guest},
                )
                self.reservations[reservation_id] = new_guest
            else:
                call(reservations.delete_reservation, reservation_id)
                del self.reservations[reservation_id]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 10_000)), min_size=1, max_size=30),
    data=st.data(),
)
def test_one_run_and_its_delivery_leave_both_sides_equal(pms_db, crm_db, steps, data):
    pms, crm = pms_db.store, crm_db.store
    reset(pms, crm)
    history = History(pms)
    for operation, pick in steps:
        history.apply(operation, pick)

    events = pending_events(pms)
    fates = data.draw(st.lists(st.sampled_from(FATES), min_size=len(events), max_size=len(events)), label="fates")
    delivered = [e for e, fate in zip(events, fates, strict=True) if fate == "deliver"]
    lose(pms, [e for e, fate in zip(events, fates, strict=True) if fate == "give_up"], FAILED)
    lose(pms, [e for e, fate in zip(events, fates, strict=True) if fate == "lost_after_ack"], DELIVERED)
    deliver(pms, crm, data.draw(st.permutations(delivered), label="delivery order"))

    runs = reconcile(pms, crm_side(crm))
    assert [r["status"] for r in runs] == ["completed", "completed"], runs
    assert sum(r["unrepairable"] for r in runs) == 0, runs
    repairs = pending_events(pms)
    assert len(repairs) == sum(r["repaired"] for r in runs)
    deliver(pms, crm, data.draw(st.permutations(repairs), label="repair order"))

    assert manifests(pms_side(pms)) == manifests(crm_side(crm))
    assert [r["drifted"] for r in reconcile(pms, crm_side(crm))] == [0, 0]


@pytest.mark.parametrize("lost", ["give_up", "lost_after_ack"])
def test_a_lost_delete_is_repaired_from_its_tombstone(pms_db, crm_db, lost):
    """The shortest history the property covers, spelled out: the CRM keeps a guest the PMS deleted."""
    pms, crm = pms_db.store, crm_db.store
    guest = pms.call(guests.create_guest, {"email": "short@example.com", "name": "Short"})
    deliver(pms, crm, pending_events(pms))
    pms.call(guests.delete_guest, guest["id"])
    lose(pms, pending_events(pms), FAILED if lost == "give_up" else DELIVERED)
    assert manifests(crm_side(crm))["guest"] == [{"id": guest["id"], "version": 1, "deleted": False}]
    reconcile(pms, crm_side(crm))
    (repair,) = pending_events(pms)
    assert (repair.type, repair.entity_version) == ("guest.deleted", 2)
    deliver(pms, crm, [repair])
    assert manifests(crm_side(crm))["guest"] == [{"id": guest["id"], "version": 2, "deleted": True}]
