"""The reconciler against the real CRM: what it repairs, what it reports, dry runs, failures, cost.

The PMS is driven through its services and the CRM through its receiver's unit of work
(``tests/support/sync.py``); the CRM is read in-process through the same core functions its
routes call, except in the tests of the command line, which read a real CRM app over HTTP.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json

import pytest

from core.db import utcnow
from crm_app.app import make_app as make_crm_app
from crm_app.config import CrmSettings
from crm_app.models import GuestProfile
from crm_app.services.receiver import receive_one
from pms_app.config import PmsSettings
from pms_app.models import OutboxEvent
from pms_app.notifications.models import Notification
from pms_app.services import guests, reservations
from pms_app.sync import compare as compare_module
from pms_app.sync import lease
from pms_app.sync.cli import parse_args, run_command
from pms_app.sync.crm_client import CrmSyncClient
from pms_app.sync.models import SyncRun
from pms_app.sync.service import reconcile
from tests.crm_app.webhook_factory import SECRET, deleted, guest, incoming
from tests.support.receivers import ServedApp
from tests.support.sync import crm_side, deliver, deliver_pending, lose, manifests, pending_events, pms_side


def new_guest(store, n: int) -> dict:
    return store.call(guests.create_guest, {"email": f"rec{n}@example.com", "name": f"Rec {n}"})


def new_reservation(store, guest_id: int) -> dict:
    return store.call(
        reservations.create_reservation,
        {"guest_id": guest_id, "check_in": "2031-05-01", "check_out": "2031-05-04", "total_amount": "300.00"},
    )


def outbox(store) -> list[tuple]:
    return store.call(
        lambda: [(e.type, e.entity_id, e.entity_version) for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
    )


def crm_sends(crm_store, event_type: str, payload: dict) -> str:
    """The CRM receives an event the PMS did not send (to set up the CRM-ahead cases)."""
    return crm_store.call(receive_one, incoming(event_type, payload), transaction=False).status


def in_step(pms_store, crm_store) -> bool:
    return manifests(pms_side(pms_store)) == manifests(crm_side(crm_store))


@pytest.fixture
def stores(pms_db, crm_db):
    return pms_db.store, crm_db.store


def test_digests_of_both_services_agree_exactly_where_they_hold_the_same(stores):
    pms, crm = stores
    made = [new_guest(pms, n) for n in range(1, 9)]
    deliver_pending(pms, crm)
    digest = lambda side: side.digest("guest", 1, 8, 4)  # noqa: E731
    assert digest(pms_side(pms)) == digest(crm_side(crm))
    # One version differs: only the bucket holding that guest differs.
    pms.call(guests.update_guest, made[2]["id"], {"name": "Moved on"})
    differing = [p["from_id"] for p, c in zip(digest(pms_side(pms)), digest(crm_side(crm)), strict=True) if p != c]
    assert differing == [3]
    deliver_pending(pms, crm)
    assert digest(pms_side(pms)) == digest(crm_side(crm))
    # A deleted flag (and its version) differs.
    pms.call(guests.delete_guest, made[6]["id"])
    assert [p["from_id"] for p, c in zip(digest(pms_side(pms)), digest(crm_side(crm)), strict=True) if p != c] == [7]
    deliver_pending(pms, crm)
    # An extra row on one side.
    new_guest(pms, 9)
    assert pms_side(pms).digest("guest", 1, 10, 1) != crm_side(crm).digest("guest", 1, 10, 1)


def test_lost_changes_are_repaired_with_the_current_state(stores):
    pms, crm = stores
    kept, renamed, gone, only_reservation = (new_guest(pms, n) for n in range(1, 5))
    booking = new_reservation(pms, kept["id"])
    cancelled = new_reservation(pms, kept["id"])
    unseen_guest_booking = new_reservation(pms, only_reservation["id"])
    deliver_pending(pms, crm)
    pms.call(guests.update_guest, renamed["id"], {"name": "Renamed"})
    pms.call(reservations.update_reservation, booking["id"], {"room_number": "909"})
    pms.call(reservations.delete_reservation, cancelled["id"])
    pms.call(guests.delete_guest, gone["id"])
    lose(pms, pending_events(pms))  # all of those failed for good
    # The CRM also never got guest 4's own event, only its reservation: a profile with no version.
    crm.call(
        lambda: (
            GuestProfile.update(version=None, email=None, name=None)
            .where(GuestProfile.guest_id == only_reservation["id"])
            .execute()
        )
    )
    assert not in_step(pms, crm)
    before = len(outbox(pms))

    runs = reconcile(pms, crm_side(crm))

    assert [(r["kind"], r["status"], r["drifted"], r["repaired"], r["unrepairable"]) for r in runs] == [
        ("guest", "completed", 3, 3, 0),
        ("reservation", "completed", 2, 2, 0),
    ]
    assert runs[0]["compared"] == 4 and runs[1]["compared"] == 3
    repairs = outbox(pms)[before:]
    assert sorted(repairs) == sorted(
        [
            ("guest.updated", renamed["id"], 2),
            ("guest.deleted", gone["id"], 2),
            ("guest.updated", only_reservation["id"], 1),
            ("reservation.updated", booking["id"], 2),
            ("reservation.deleted", cancelled["id"], 2),
        ]
    )
    events = {(e.type, e.entity_id): e for e in pending_events(pms)}
    assert events[("guest.updated", renamed["id"])].payload == pms.call(guests.get_guest, renamed["id"])
    tomb = events[("reservation.deleted", cancelled["id"])].payload
    assert set(tomb) == {"id", "version", "deleted_at", "guest_id"} and tomb["guest_id"] == kept["id"]
    assert unseen_guest_booking["id"] not in [entity for kind, entity, _ in repairs if kind.startswith("reservation")]

    assert set(deliver_pending(pms, crm)) == {"accepted"}
    assert in_step(pms, crm)
    again = reconcile(pms, crm_side(crm))
    assert [(r["drifted"], r["repaired"]) for r in again] == [(0, 0), (0, 0)]


def test_a_run_that_finds_drift_notifies_ops_once_per_kind_and_one_in_step_does_not(stores):
    pms, crm = stores
    made = [new_guest(pms, n) for n in range(1, 4)]
    new_reservation(pms, made[0]["id"])
    deliver_pending(pms, crm)
    assert reconcile(pms, crm_side(crm)) and notifications(pms) == []  # in step: nothing to tell

    pms.call(guests.update_guest, made[1]["id"], {"name": "Lost update"})
    lose(pms, pending_events(pms))
    (run,) = reconcile(pms, crm_side(crm), ["guest"])

    (told,) = notifications(pms)
    assert (told.type, told.endpoint_id) == ("sync.drift", 1)
    assert told.data == {
        "run_id": run["id"],
        "kind": "guest",
        "drifted": 1,
        "repaired": 1,
        "unrepairable": 0,
        "dry_run": False,
    }


def notifications(store) -> list[Notification]:
    return store.call(lambda: list(Notification.select().order_by(Notification.id)))


def test_a_dry_run_reports_and_changes_nothing(stores):
    pms, crm = stores
    made = [new_guest(pms, n) for n in range(1, 4)]
    deliver_pending(pms, crm)
    pms.call(guests.update_guest, made[0]["id"], {"name": "Lost update"})
    lose(pms, pending_events(pms))
    before_pms, before_crm = outbox(pms), manifests(crm_side(crm))

    runs = reconcile(pms, crm_side(crm), ["guest"], dry_run=True)

    assert [(r["dry_run"], r["status"], r["drifted"], r["repaired"]) for r in runs] == [(True, "completed", 1, 0)]
    assert outbox(pms) == before_pms and manifests(crm_side(crm)) == before_crm
    assert reconcile(pms, crm_side(crm), ["guest"])[0]["repaired"] == 1


def test_what_the_crm_holds_beyond_the_pms_is_reported_and_left_alone(stores):
    pms, crm = stores
    ahead, erased, fine = (new_guest(pms, n) for n in range(1, 4))
    deliver_pending(pms, crm)
    assert crm_sends(crm, "guest.updated", guest(ahead["id"], 5)) == "accepted"  # a version the PMS never had
    assert crm_sends(crm, "guest.deleted", deleted(erased["id"], 1)) == "accepted"  # a tombstone the PMS has not
    assert crm_sends(crm, "guest.created", guest(999)) == "accepted"  # an id the PMS never gave
    before_pms, before_crm = outbox(pms), manifests(crm_side(crm))

    (run,) = reconcile(pms, crm_side(crm), ["guest"])

    assert (run["status"], run["drifted"], run["repaired"], run["unrepairable"]) == ("completed", 3, 0, 3)
    assert run["unrepairable_entities"] == [
        {
            "id": ahead["id"],
            "reason": "newer_in_crm",
            "pms": {"version": 1, "deleted": False},
            "crm": {"version": 5, "deleted": False},
        },
        {
            "id": erased["id"],
            "reason": "deleted_in_crm",
            "pms": {"version": 1, "deleted": False},
            "crm": {"version": 1, "deleted": True},
        },
        {"id": 999, "reason": "unknown_to_pms", "pms": None, "crm": {"version": 1, "deleted": False}},
    ]
    assert outbox(pms) == before_pms and manifests(crm_side(crm)) == before_crm
    assert fine["id"] not in [f["id"] for f in run["unrepairable_entities"]]


def test_an_entity_whose_event_is_still_on_its_way_is_left_to_it(stores):
    pms, crm = stores
    made = [new_guest(pms, n) for n in range(1, 4)]
    deliver(pms, crm, pending_events(pms)[:1])  # the other two creates are still pending
    before = outbox(pms)
    (run,) = reconcile(pms, crm_side(crm), ["guest"])
    assert (run["in_flight"], run["drifted"], run["repaired"]) == (2, 0, 0)
    assert outbox(pms) == before
    deliver_pending(pms, crm)
    assert in_step(pms, crm) and made


def test_the_walk_descends_only_into_buckets_that_differ(stores, monkeypatch):
    pms, crm = stores
    monkeypatch.setattr(compare_module, "TARGET_BUCKET_ROWS", 4)
    monkeypatch.setattr(compare_module, "LEAF_ROWS", 4)
    made = [new_guest(pms, n) for n in range(1, 65)]
    deliver_pending(pms, crm)
    pms.call(guests.update_guest, made[40]["id"], {"name": "The one that drifted"})
    lose(pms, pending_events(pms))

    calls: list[tuple] = []

    class Counting:
        def __init__(self, side):
            self.side = side

        def digest(self, *args):
            calls.append(("digest", *args))
            return self.side.digest(*args)

        def manifest(self, *args):
            calls.append(("manifest", *args))
            return self.side.manifest(*args)

    (run,) = reconcile(pms, Counting(crm_side(crm)), ["guest"])
    assert (run["compared"], run["drifted"], run["repaired"]) == (64, 1, 1)
    digests = [c[2:] for c in calls if c[0] == "digest"]
    # The tail above the PMS's highest id, the root (16 buckets of 4), then nothing but the
    # one bucket that holds guest 41 is listed.
    assert digests == [(65, 2**63 - 1, 1), (1, 64, 16)]
    assert [c for c in calls if c[0] == "manifest"] == [("manifest", "guest", 40, 5)]
    # With leaves smaller than a root bucket, the differing bucket is cut again, only that one.
    calls.clear()
    monkeypatch.setattr(compare_module, "LEAF_ROWS", 1)
    monkeypatch.setattr(compare_module, "TARGET_BUCKET_ROWS", 2)
    pms.call(guests.update_guest, made[40]["id"], {"name": "Drifted again"})
    lose(pms, pending_events(pms))
    (run,) = reconcile(pms, Counting(crm_side(crm)), ["guest"])
    digests = [c[2:] for c in calls if c[0] == "digest"]
    assert digests[:2] == [(65, 2**63 - 1, 1), (1, 64, 32)]
    assert digests[2:] == [(41, 42, 2)]
    assert run["repaired"] == 1


# -- the command line, over HTTP to a real CRM app ---------------------------------------------

CRM_TOKEN = "crm-reconcile-token"


@pytest.fixture
def crm_app(crm_db):
    served = ServedApp(
        lambda: make_crm_app(
            dataclasses.replace(CrmSettings(webhook_secrets=(SECRET,)), api_token=CRM_TOKEN), store=crm_db.store
        )
    )
    served.start()
    yield served
    served.stop()


def cli_args(*argv: str) -> argparse.Namespace:
    return parse_args(list(argv))


def test_the_command_reads_the_crm_over_http_with_its_token(stores, crm_app):
    pms, crm = stores
    made = [new_guest(pms, n) for n in range(1, 6)]
    new_reservation(pms, made[0]["id"])
    deliver_pending(pms, crm)
    pms.call(guests.update_guest, made[1]["id"], {"country": "NO"})
    lose(pms, pending_events(pms))
    settings = PmsSettings(crm_webhook_url=crm_app.url, crm_api_token=CRM_TOKEN)
    assert settings.crm_api_base == crm_app.origin + "/api/v1"  # derived from CRM_WEBHOOK_URL
    out = io.StringIO()

    assert run_command(settings, pms, cli_args("--json"), out) == 0

    runs = json.loads(out.getvalue())["data"]
    assert [(r["kind"], r["trigger"], r["drifted"], r["repaired"]) for r in runs] == [
        ("guest", "command", 1, 1),
        ("reservation", "command", 0, 0),
    ]
    assert all(r["requests"] >= 2 for r in runs)  # the tail and the root digest at least
    deliver_pending(pms, crm)
    out = io.StringIO()
    assert run_command(settings, pms, cli_args("--kind", "guest"), out) == 0
    table = out.getvalue().splitlines()
    assert table[0].split() == [
        "kind",
        "status",
        "compared",
        "drifted",
        "repaired",
        "unrepairable",
        "in_flight",
        "requests",
    ]
    assert table[1].split()[:5] == ["guest", "completed", "5", "0", "0"]


def test_the_command_fails_when_the_crm_refuses_or_is_unreachable(stores, crm_app):
    pms, _ = stores
    new_guest(pms, 1)
    wrong_token = PmsSettings(crm_api_url=crm_app.origin + "/api/v1", crm_api_token="wrong")
    out = io.StringIO()
    assert run_command(wrong_token, pms, cli_args("--json"), out) == 1
    runs = json.loads(out.getvalue())["data"]
    assert [r["status"] for r in runs] == ["failed", "failed"]
    assert "401" in runs[0]["error"] and "unauthorized" in runs[0]["error"]
    unreachable = PmsSettings(crm_api_url="http://127.0.0.1:9/api/v1")
    client = CrmSyncClient(unreachable.crm_api_base, timeout=2)
    out = io.StringIO()
    assert run_command(unreachable, pms, cli_args(), out, crm=client) == 1
    assert "could not be reached" in out.getvalue()


def test_the_command_refuses_to_overlap_another_run(stores, crm_app, capsys):
    pms, _ = stores
    assert pms.call(lease.acquire, "worker-elsewhere", utcnow())
    settings = PmsSettings(crm_api_url=crm_app.origin + "/api/v1", crm_api_token=CRM_TOKEN)
    assert run_command(settings, pms, cli_args(), io.StringIO()) == 1
    assert "another reconciliation is running (worker-elsewhere" in capsys.readouterr().err
    assert pms.call(lambda: SyncRun.select().count()) == 0
