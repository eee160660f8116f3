"""``python -m pms_app deliveries list|replay`` on SQLite and MariaDB: filters, pages, the API's JSON
shapes, exit statuses, the audit log and replay attribution, and a replay reaching a worker
that runs in another process."""

from __future__ import annotations

import datetime as dt
import getpass

import pytest

from core.db import iso, utcnow
from core.pagination import PageRequest
from pms_app.delivery.pacing import WorkerTiming
from pms_app.models import (
    CRM_ENDPOINT_ID,
    DELIVERED,
    FAILED,
    HELD,
    PENDING,
    REPLAY,
    AuditEntry,
    Delivery,
    DeliveryAttempt,
)
from pms_app.services import audit, deliveries
from tests.support.cli import Cli
from tests.support.delivery import SUMMARY_KEYS, add_event, delivery_settings, event, running_worker
from tests.support.endpoints import add_endpoint
from tests.support.receivers import Receiver, wait_until


@pytest.fixture
def cli(pms_db, monkeypatch, capsys) -> Cli:
    return Cli(pms_db, monkeypatch, capsys)


def set_status(store, event_id: str, status: str, endpoint_id: int = CRM_ENDPOINT_ID, **fields) -> None:
    store.call(
        lambda: (
            Delivery.update(status=status, **fields)
            .where((Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id))
            .execute()
        )
    )


def audit_rows(store) -> list[AuditEntry]:
    return store.call(lambda: list(AuditEntry.select().order_by(AuditEntry.id)))


def test_list_is_the_api_list_newest_first_with_status_filter(pms_db, cli):
    ids = [add_event(pms_db.store, entity_id=i) for i in range(1, 5)]
    set_status(pms_db.store, ids[1], FAILED, last_status_code=500, last_error="HTTP 500")

    listed = cli("deliveries", "list", "--json")
    assert listed.status == 0, listed.err
    assert listed.json["next_cursor"] is None
    assert [d["id"] for d in listed.json["data"]] == ids[::-1]
    assert set(listed.json["data"][0]) == SUMMARY_KEYS
    # Exactly what the API's list answers.
    api_rows, _ = pms_db.store.call(deliveries.list_deliveries, PageRequest())
    assert listed.json["data"] == api_rows

    failed = cli("deliveries", "list", "--status", "failed", "--json")
    assert [d["id"] for d in failed.json["data"]] == [ids[1]]

    table = cli("deliveries", "list", "--status", "failed")
    assert table.status == 0
    header, row = table.out.splitlines()
    assert header.split() == [
        "id",
        "type",
        "status",
        "entity",
        "attempts",
        "last_result",
        "created_at",
        "next_attempt_at",
    ]
    assert row.split()[:3] == [ids[1], "guest.updated", "failed"]
    assert "HTTP 500" in row


def test_list_limit_pages_and_cursor(pms_db, cli):
    ids = [add_event(pms_db.store, entity_id=i) for i in range(1, 6)]
    first = cli("deliveries", "list", "--limit", "3", "--json")
    assert [d["id"] for d in first.json["data"]] == ids[:1:-1]
    assert first.json["next_cursor"]
    rest = cli("deliveries", "list", "--limit", "3", "--cursor", first.json["next_cursor"], "--json")
    assert [d["id"] for d in rest.json["data"]] == ids[1::-1]
    assert rest.json["next_cursor"] is None
    table = cli("deliveries", "list", "--limit", "2")
    assert table.out.splitlines()[-1].startswith("more: --cursor ")


def test_list_of_another_endpoint_and_unknown_endpoint(pms_db, cli):
    other = add_endpoint(pms_db.store, "billing", "http://127.0.0.1:9/hook")
    event_id = add_event(pms_db.store)
    listed = cli("deliveries", "list", "--endpoint", str(other), "--json")
    assert [(d["id"], d["endpoint_id"]) for d in listed.json["data"]] == [(event_id, other)]

    missing = cli("deliveries", "list", "--endpoint", "99")
    assert missing.status == 1
    assert missing.out == ""
    assert missing.err.strip() == "python -m pms_app deliveries list: error: endpoint 99 not found"


@pytest.mark.parametrize(
    "argv",
    [["--status", "lost"], ["--limit", "0"], ["--limit", "x"], ["--endpoint", "-1"], ["--cursor", "not-a-cursor"]],
)
def test_list_refuses_bad_arguments_with_status_2(pms_db, cli, argv):
    outcome = cli("deliveries", "list", *argv)
    assert outcome.status == 2
    assert outcome.out == ""
    assert "error:" in outcome.err and "Traceback" not in outcome.err


def test_replay_one_records_audit_and_attribution(pms_db, cli):
    event_id = add_event(pms_db.store)
    set_status(pms_db.store, event_id, FAILED, attempt_count=3, attempts_since_replay=3)

    replayed = cli("deliveries", "replay", event_id, "--operator", "alice", "--json")
    assert replayed.status == 0, replayed.err
    assert replayed.json["data"]["id"] == event_id
    assert replayed.json["data"]["status"] == PENDING
    assert set(replayed.json["data"]) == SUMMARY_KEYS

    delivery = event(pms_db.store, event_id)
    assert (delivery.status, delivery.next_trigger, delivery.replayed_by, delivery.attempts_since_replay) == (
        PENDING,
        REPLAY,
        "alice",
        0,
    )
    [entry] = audit_rows(pms_db.store)
    assert (entry.operator, entry.action, entry.target) == ("alice", audit.DELIVERY_REPLAY, event_id)
    assert entry.details == {"previous_status": FAILED, "endpoint_id": CRM_ENDPOINT_ID}


def test_replay_defaults_the_operator_to_the_os_user(pms_db, cli, monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "olga")
    event_id = add_event(pms_db.store)
    outcome = cli("deliveries", "replay", event_id)
    assert outcome.status == 0, outcome.err
    assert outcome.out.strip() == f"delivery {event_id} to endpoint 1: pending, due now (replayed by cli.olga)"
    assert [e.operator for e in audit_rows(pms_db.store)] == ["cli.olga"]
    assert event(pms_db.store, event_id).replayed_by == "cli.olga"


def test_an_os_user_that_is_no_operator_name_asks_for_operator(pms_db, cli, monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "Jane Doe")
    event_id = add_event(pms_db.store)
    outcome = cli("deliveries", "replay", event_id)
    assert outcome.status == 2
    assert "give --operator NAME" in outcome.err
    assert audit_rows(pms_db.store) == []
    assert event(pms_db.store, event_id).next_trigger != REPLAY


@pytest.mark.parametrize("operator", ["has space", "x" * 65, "semi;colon", ""])
def test_a_malformed_operator_is_refused_like_the_header(pms_db, cli, operator):
    event_id = add_event(pms_db.store)
    outcome = cli("deliveries", "replay", event_id, "--operator", operator)
    assert outcome.status == 2
    assert outcome.err.startswith("python -m pms_app deliveries replay: error: --operator: must be 1 to 64")
    assert audit_rows(pms_db.store) == []


def test_replay_unknown_delivery_is_not_found(pms_db, cli):
    outcome = cli("deliveries", "replay", "00000000-0000-0000-0000-000000000000", "--operator", "alice")
    assert outcome.status == 1
    assert outcome.err.strip().endswith("delivery 00000000-0000-0000-0000-000000000000 not found")
    assert audit_rows(pms_db.store) == []


def test_replay_to_a_disabled_endpoint_is_held(pms_db, cli):
    other = add_endpoint(pms_db.store, "billing", "http://127.0.0.1:9/hook", enabled=False)
    event_id = add_event(pms_db.store)
    set_status(pms_db.store, event_id, FAILED, endpoint_id=other)
    outcome = cli("deliveries", "replay", event_id, "--endpoint", str(other), "--operator", "alice", "--json")
    assert outcome.json["data"]["status"] == HELD
    set_status(pms_db.store, event_id, FAILED, endpoint_id=other)
    table = cli("deliveries", "replay", event_id, "--endpoint", str(other), "--operator", "alice")
    assert table.out.strip() == (
        f"delivery {event_id} to endpoint {other}: held until the endpoint is enabled (replayed by alice)"
    )


def test_replay_failed_with_and_without_since(pms_db, cli):
    old, recent, delivered = (add_event(pms_db.store, entity_id=i) for i in (1, 2, 3))
    long_ago = utcnow() - dt.timedelta(days=2)
    set_status(pms_db.store, old, FAILED, created_at=long_ago)
    set_status(pms_db.store, recent, FAILED)
    set_status(pms_db.store, delivered, DELIVERED, delivered_at=utcnow())
    since = iso(utcnow() - dt.timedelta(days=1))

    some = cli("deliveries", "replay", "--failed", "--since", since, "--operator", "alice", "--json")
    assert some.status == 0, some.err
    assert some.json == {"data": {"replayed": 1}}
    assert (event(pms_db.store, old).status, event(pms_db.store, recent).status) == (FAILED, PENDING)

    every = cli("deliveries", "replay", "--failed", "--operator", "bob")
    assert every.out.strip() == "replayed 1 failed delivery to endpoint 1 (replayed by bob)"
    assert event(pms_db.store, old).status == PENDING
    assert event(pms_db.store, delivered).status == DELIVERED  # --failed never touches the rest

    entries = audit_rows(pms_db.store)
    assert [(e.operator, e.action) for e in entries] == [
        ("alice", audit.DELIVERIES_REPLAY_FAILED),
        ("bob", audit.DELIVERIES_REPLAY_FAILED),
    ]
    assert entries[0].details == {"replayed": 1, "endpoint_id": 1, "since": since}
    assert entries[1].details == {"replayed": 1, "endpoint_id": 1}


def test_replay_since_alone_recovers_every_state(pms_db, cli):
    other = add_endpoint(pms_db.store, "billing", "http://127.0.0.1:9/hook")
    first, second = add_event(pms_db.store, entity_id=1), add_event(pms_db.store, entity_id=2)
    set_status(pms_db.store, first, DELIVERED, endpoint_id=other, delivered_at=utcnow())
    set_status(pms_db.store, second, FAILED, endpoint_id=other)
    since = iso(utcnow() - dt.timedelta(hours=1))
    outcome = cli("deliveries", "replay", "--since", since, "--endpoint", str(other), "--operator", "alice")
    assert outcome.status == 0, outcome.err
    assert outcome.out.strip() == (
        f"replayed 2 deliveries created since {since} to endpoint {other} (replayed by alice)"
    )
    assert {event(pms_db.store, e, other).status for e in (first, second)} == {PENDING}
    assert event(pms_db.store, first).status == PENDING  # endpoint 1's untouched (never attempted)
    [entry] = audit_rows(pms_db.store)
    assert (entry.action, entry.details["replayed"], entry.details["endpoint_id"]) == (
        audit.DELIVERIES_RECOVER,
        2,
        other,
    )


def test_bulk_replay_of_unknown_endpoint_is_not_found(pms_db, cli):
    outcome = cli("deliveries", "replay", "--failed", "--endpoint", "42", "--operator", "alice")
    assert outcome.status == 1
    assert outcome.err.strip().endswith("error: endpoint 42 not found")
    assert audit_rows(pms_db.store) == []


@pytest.mark.parametrize("argv", [[], ["some-id", "--failed"], ["some-id", "--since", "2026-01-01T00:00:00Z"]])
def test_replay_needs_one_way_to_choose(pms_db, cli, argv):
    outcome = cli("deliveries", "replay", *argv, "--operator", "alice")
    assert outcome.status == 2
    assert "give" in outcome.err
    assert audit_rows(pms_db.store) == []


def test_replay_refuses_a_bad_since(pms_db, cli):
    outcome = cli("deliveries", "replay", "--failed", "--since", "yesterday", "--operator", "alice")
    assert outcome.status == 2
    assert outcome.err.strip() == (
        "python -m pms_app deliveries replay: error: --since: must be an ISO 8601 time such as 2026-11-30T10:00:00Z"
    )


def test_replay_from_another_process_reaches_a_running_worker(pms_db, cli):
    """A standalone worker notices due work by polling (every 0.1 s at most when idle), so a
    replay committed by the command line, a separate process, goes out without any wake-up."""
    with Receiver() as receiver:
        settings = delivery_settings(receiver.url)
        event_id = add_event(pms_db.store)
        set_status(pms_db.store, event_id, FAILED, attempt_count=2, attempts_since_replay=2)
        with running_worker(settings, pms_db.store, timing=WorkerTiming()):
            outcome = cli.process("deliveries", "replay", event_id, "--operator", "night-shift")
            assert outcome.status == 0, outcome.err
            wait_until(
                lambda: event(pms_db.store, event_id).status == DELIVERED,
                timeout=10,
                message="the replayed delivery to be delivered",
            )
        assert receiver.count() == 1
    attempts = pms_db.store.call(lambda: [a.to_api() for a in DeliveryAttempt.select()])
    assert [(a["trigger"], a["replayed_by"]) for a in attempts] == [("replay", "night-shift")]
