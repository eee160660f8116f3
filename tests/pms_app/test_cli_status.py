"""``python -m pms_app status`` and the endpoint overview behind it, on SQLite and MariaDB: every
endpoint's status route answer plus held deliveries, the oldest pending one and the last hour's
attempts, read through indexes and the primary key only."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import iso, utcnow
from pms_app.endpoints.models import Endpoint
from pms_app.models import DELIVERED, FAILED, HELD, PENDING, BreakerState, Delivery, DeliveryAttempt
from pms_app.services import deliveries, endpoint_overview
from pms_app.services.outbox_counts import OutboxCounts
from tests.support.cli import Cli
from tests.support.delivery import add_event
from tests.support.endpoints import add_endpoint

STATUS_ROUTE_KEYS = {"endpoint", "breaker", "outbox", "last_success_at", "last_failure_at"}


@pytest.fixture
def cli(pms_db, monkeypatch, capsys) -> Cli:
    return Cli(pms_db, monkeypatch, capsys)


def add_attempt(delivery_id: int, started_at: dt.datetime, status_code: int | None) -> int:
    return DeliveryAttempt.create(event_id="e", delivery_id=delivery_id, attempt=1, started_at=started_at,
                                  status_code=status_code, duration_ms=5,
                                  error=None if status_code == 200 else "failed").id


@pytest.fixture
def incident(pms_db):
    """Endpoint 1 with a backlog, an open breaker and mixed attempts; endpoint 2 disabled (gone)
    with held deliveries; endpoint 3 idle."""
    store = pms_db.store
    gone = add_endpoint(store, "billing", "http://127.0.0.1:9/hook")
    idle = add_endpoint(store, "audit-sink", "http://127.0.0.1:9/audit", event_types=["nothing.*"])
    ids = [add_event(store, entity_id=i) for i in range(1, 5)]
    now = utcnow()

    def arrange():
        crm = {d.event_id: d for d in Delivery.select().where(Delivery.endpoint_id == 1)}
        Delivery.update(status=PENDING, created_at=now - dt.timedelta(minutes=10)) \
            .where(Delivery.id == crm[ids[0]].id).execute()
        Delivery.update(status=FAILED).where(Delivery.id == crm[ids[2]].id).execute()
        Delivery.update(status=DELIVERED, delivered_at=now).where(Delivery.id == crm[ids[3]].id).execute()
        Delivery.update(status=HELD).where(Delivery.endpoint_id == gone).execute()
        Endpoint.update(enabled=False, disabled_reason="gone", disabled_at=now).where(Endpoint.id == gone).execute()
        Endpoint.update(last_success_at=now - dt.timedelta(minutes=3)).where(Endpoint.id == 1).execute()
        add_attempt(crm[ids[3]].id, now - dt.timedelta(hours=2), 200)          # before the hour
        for minutes, code in ((50, 200), (20, 500), (5, 200)):
            add_attempt(crm[ids[2]].id, now - dt.timedelta(minutes=minutes), code)
        BreakerState.create(worker_id="w-1", endpoint="1", state="open", failure_count=5, opened_at=now,
                            updated_at=now)
    store.call(arrange)
    return {"gone": gone, "idle": idle, "ids": ids, "now": now}


def test_status_json_is_each_status_route_answer_plus_the_triage_figures(pms_db, cli, incident):
    outcome = cli("status", "--json")
    assert outcome.status == 0, outcome.err
    crm, gone, idle = outcome.json["data"]
    assert [crm["id"], gone["id"], idle["id"]] == [1, incident["gone"], incident["idle"]]

    for entry in (crm, gone, idle):
        route = pms_db.store.call(deliveries.webhook_status, entry["id"], OutboxCounts())
        assert {k: entry[k] for k in STATUS_ROUTE_KEYS} == route

    assert crm["breaker"]["state"] == "open" and crm["breaker"]["failure_count"] == 5
    assert crm["outbox"] == {"pending": 2, "delivering": 0, "delivered": 1, "failed": 1}
    assert (crm["enabled"], crm["disabled_reason"], crm["held"]) == (True, None, 0)
    assert crm["oldest_pending_at"] == iso(incident["now"] - dt.timedelta(minutes=10))
    assert 595 <= crm["oldest_pending_age_seconds"] <= 660
    assert crm["last_hour"] == {"attempts": 3, "succeeded": 2, "success_rate": 0.6667}

    assert (gone["enabled"], gone["disabled_reason"], gone["held"]) == (False, "gone", 4)
    assert gone["outbox"]["pending"] == 0 and gone["oldest_pending_at"] is None
    assert idle["last_hour"] == {"attempts": 0, "succeeded": 0, "success_rate": None}


def test_status_table_one_row_per_endpoint(pms_db, cli, incident):
    outcome = cli("status")
    assert outcome.status == 0, outcome.err
    header, crm, gone, idle = outcome.out.splitlines()
    assert header.split() == ["id", "name", "state", "breaker", "pending", "in_flight", "held", "failed",
                              "oldest_pending", "ok_last_hour", "last_success", "url"]
    assert crm.split() == ["1", "crm", "enabled", "open", "(5)", "2", "0", "0", "1", "10m", "2/3", "3m", "ago",
                           "http://localhost:5001/api/v1/webhooks/pms"]
    assert gone.split() == [str(incident["gone"]), "billing", "disabled", "(gone)", "closed", "0", "0", "4", "0",
                            "-", "-", "-", "http://127.0.0.1:9/hook"]
    assert idle.split()[:4] == [str(incident["idle"]), "audit-sink", "enabled", "closed"]


def test_status_of_a_fresh_database(pms_db, cli):
    outcome = cli("status", "--json")
    assert outcome.status == 0, outcome.err
    [crm] = outcome.json["data"]
    assert crm["outbox"] == {"pending": 0, "delivering": 0, "delivered": 0, "failed": 0}
    assert crm["last_hour"]["attempts"] == 0


def test_first_attempt_id_bounds_the_hour_however_rows_interleave(pms_db):
    """Attempt rows are written as attempts end, so their start times are only roughly in id
    order; the bound must still keep every attempt of the hour and skip the old history."""
    add_event(pms_db.store)
    now = utcnow()
    since = now - endpoint_overview.WINDOW

    def arrange():
        delivery = Delivery.select().first()
        old = [add_attempt(delivery.id, now - dt.timedelta(hours=3, seconds=i), 200) for i in range(60)]
        # Out of order within the recording delay, with gaps in the ids.
        mixed = [add_attempt(delivery.id, now - dt.timedelta(minutes=m), 500) for m in (70, 55, 65, 61, 59, 2)]
        DeliveryAttempt.delete().where(DeliveryAttempt.id.in_(old[10:50:3] + [mixed[1]])).execute()
        return old, mixed

    old, mixed = pms_db.store.call(arrange)
    bound = pms_db.store.call(endpoint_overview.first_attempt_id_after, since - endpoint_overview.RECORDING_DELAY)
    assert old[-1] < bound <= min(mixed[4], mixed[5])
    outcomes = pms_db.store.call(endpoint_overview.attempt_outcomes, since)
    assert outcomes == {1: (2, 0)}   # started 59 and 2 minutes ago
    assert pms_db.store.call(endpoint_overview.first_attempt_id_after, now + dt.timedelta(minutes=1)) is None


def test_no_attempts_at_all(pms_db):
    assert pms_db.store.call(endpoint_overview.first_attempt_id_after, utcnow()) is None
    assert pms_db.store.call(endpoint_overview.attempt_outcomes, utcnow()) == {}

