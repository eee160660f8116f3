"""``python -m pms_app status`` on SQLite and MariaDB: every endpoint's health, the same figures
(and with ``--json`` the same body) as ``GET /endpoints/health``, one table row each."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import iso, utcnow
from core.pagination import PageRequest
from pms_app.endpoints.models import Endpoint
from pms_app.models import DELIVERED, DELIVERING, FAILED, HELD, PENDING, BreakerState, Delivery, DeliveryAttempt
from pms_app.services import endpoint_health
from tests.support.cli import Cli
from tests.support.delivery import add_event
from tests.support.endpoints import add_endpoint


@pytest.fixture
def cli(pms_db, monkeypatch, capsys) -> Cli:
    return Cli(pms_db, monkeypatch, capsys)


def add_attempt(delivery_id: int, started_at: dt.datetime, status_code: int | None, duration_ms: int = 5) -> int:
    return DeliveryAttempt.create(
        event_id="e",
        delivery_id=delivery_id,
        attempt=1,
        started_at=started_at,
        status_code=status_code,
        duration_ms=duration_ms,
        error=None if status_code == 200 else "failed",
    ).id


@pytest.fixture
def incident(pms_db):
    """Endpoint 1 with a backlog (one in flight, the oldest), an open breaker and mixed attempts;
    endpoint 2 disabled (gone) with held deliveries; endpoint 3 idle."""
    store = pms_db.store
    gone = add_endpoint(store, "billing", "http://127.0.0.1:9/hook")
    idle = add_endpoint(store, "audit-sink", "http://127.0.0.1:9/audit", event_types=["nothing.*"])
    ids = [add_event(store, entity_id=i) for i in range(1, 6)]
    now = utcnow()

    def arrange():
        crm = {d.event_id: d for d in Delivery.select().where(Delivery.endpoint_id == 1)}
        Delivery.update(status=DELIVERING, created_at=now - dt.timedelta(minutes=12)).where(
            Delivery.id == crm[ids[4]].id
        ).execute()
        Delivery.update(status=PENDING, created_at=now - dt.timedelta(minutes=10)).where(
            Delivery.id == crm[ids[0]].id
        ).execute()
        Delivery.update(status=FAILED).where(Delivery.id == crm[ids[2]].id).execute()
        Delivery.update(status=DELIVERED, delivered_at=now).where(Delivery.id == crm[ids[3]].id).execute()
        Delivery.update(status=HELD).where(Delivery.endpoint_id == gone).execute()
        Endpoint.update(enabled=False, disabled_reason="gone", disabled_at=now).where(Endpoint.id == gone).execute()
        Endpoint.update(last_success_at=now - dt.timedelta(minutes=3)).where(Endpoint.id == 1).execute()
        add_attempt(crm[ids[3]].id, now - dt.timedelta(hours=2), 200)  # before the hour
        for minutes, code, ms in ((50, 200, 40), (20, 500, 900), (5, 200, 60)):
            add_attempt(crm[ids[2]].id, now - dt.timedelta(minutes=minutes), code, ms)
        BreakerState.create(worker_id="w-1", endpoint="1", state="open", failure_count=5, opened_at=now, updated_at=now)

    store.call(arrange)
    return {"gone": gone, "idle": idle, "ids": ids, "now": now}


def without_ages(entries: list[dict]) -> list[dict]:
    """The entries without the figures that move with the clock between two reads."""
    return [{k: v for k, v in e.items() if k != "oldest_pending_age_seconds"} for e in entries]


def test_status_json_is_the_health_route_body_for_every_endpoint(pms_db, cli, incident):
    outcome = cli("status", "--json")
    assert outcome.status == 0, outcome.err
    assert outcome.json["next_cursor"] is None
    crm, gone, idle = outcome.json["data"]
    assert [crm["endpoint_id"], gone["endpoint_id"], idle["endpoint_id"]] == [1, incident["gone"], incident["idle"]]

    page, _ = pms_db.store.call(endpoint_health.list_health, PageRequest(50))
    assert without_ages(outcome.json["data"]) == without_ages(page)

    assert crm["breaker"]["state"] == "open" and crm["breaker"]["failure_count"] == 5
    assert crm["deliveries"] == {"pending": 2, "delivering": 1, "held": 0, "failed": 1}
    assert (crm["enabled"], crm["disabled_reason"]) == (True, None)
    # The oldest delivery not yet delivered is the one in flight, older than the pending one.
    assert crm["oldest_pending_at"] == iso(incident["now"] - dt.timedelta(minutes=12))
    assert 715 <= crm["oldest_pending_age_seconds"] <= 780
    assert crm["last_hour"] == {
        "attempts": 3,
        "succeeded": 2,
        "failed": 1,
        "success_rate": 0.6667,
        "p50_ms": 60,
        "p95_ms": 900,
    }

    assert (gone["enabled"], gone["disabled_reason"], gone["deliveries"]["held"]) == (False, "gone", 5)
    assert gone["deliveries"]["pending"] == 0 and gone["oldest_pending_at"] is None
    assert idle["last_hour"]["attempts"] == 0 and idle["last_hour"]["success_rate"] is None


def test_status_table_one_row_per_endpoint(pms_db, cli, incident):
    outcome = cli("status")
    assert outcome.status == 0, outcome.err
    header, crm, gone, idle = outcome.out.splitlines()
    assert header.split() == [
        "id",
        "name",
        "state",
        "breaker",
        "pending",
        "in_flight",
        "held",
        "failed",
        "oldest_pending",
        "ok_last_hour",
        "p95_last_hour",
        "last_success",
        "url",
    ]
    assert crm.split() == [
        "1",
        "crm",
        "enabled",
        "open",
        "(5)",
        "2",
        "1",
        "0",
        "1",
        "12m",
        "2/3",
        "900ms",
        "3m",
        "ago",
        "http://localhost:5001/api/v1/webhooks/pms",
    ]
    assert gone.split() == [
        str(incident["gone"]),
        "billing",
        "disabled",
        "(gone)",
        "closed",
        "0",
        "0",
        "5",
        "0",
        "-",
        "-",
        "-",
        "-",
        "http://127.0.0.1:9/hook",
    ]
    assert idle.split()[:4] == [str(incident["idle"]), "audit-sink", "enabled", "closed"]


def test_status_of_a_fresh_database(pms_db, cli):
    outcome = cli("status", "--json")
    assert outcome.status == 0, outcome.err
    [crm] = outcome.json["data"]
    assert crm["deliveries"] == {"pending": 0, "delivering": 0, "held": 0, "failed": 0}
    assert crm["last_hour"]["attempts"] == 0 and crm["oldest_pending_at"] is None
