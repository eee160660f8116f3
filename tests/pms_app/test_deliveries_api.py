"""The delivery routes through the real PMS app: status, list, detail, replay; shapes and codes."""

from __future__ import annotations

import dataclasses

import pytest

from core.db import utcnow
from pms_app.config import PmsSettings
from pms_app.delivery import claims, reporting
from pms_app.delivery.breaker import BreakerSnapshot
from pms_app.models import DELIVERED, FAILED, PENDING, Delivery
from tests.support.delivery import SUMMARY_KEYS
from tests.support.http import call, json_of

TOKEN = "api-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def pms_settings() -> PmsSettings:
    return dataclasses.replace(
        PmsSettings(), api_token=TOKEN, crm_webhook_url="http://crm-user:hunter2@crm.internal:5001/api/v1/webhooks/pms"
    )


async def api(http_client, base_url, method, path, body=None, headers=AUTH):
    return await call(http_client, base_url, method, "/api/v1" + path, body, headers=headers)


async def make_guests(http_client, base_url, n):
    made = []
    for i in range(n):
        r = await api(http_client, base_url, "POST", "/guests", {"email": f"g{i}@example.com", "name": f"G {i}"})
        assert r.code == 201
        made.append(json_of(r)["data"])
    return made


def set_status(store, event_id, status, **fields):
    store.call(lambda: Delivery.update(status=status, **fields).where(Delivery.event_id == event_id).execute())


@pytest.mark.gen_test
async def test_routes_need_the_token(http_client, base_url):
    for method, path in (
        ("GET", "/guests/webhook/status"),
        ("GET", "/webhooks/deliveries"),
        ("POST", "/webhooks/deliveries/replay"),
    ):
        r = await api(http_client, base_url, method, path, headers={})
        assert r.code == 401 and json_of(r)["error"]["code"] == "unauthorized"


@pytest.mark.gen_test
async def test_status_without_workers(http_client, base_url, pms_db):
    await make_guests(http_client, base_url, 2)
    r = await api(http_client, base_url, "GET", "/guests/webhook/status")
    assert r.code == 200
    data = json_of(r)["data"]
    assert data == {
        "endpoint": "http://crm-user:***@crm.internal:5001/api/v1/webhooks/pms",  # no secret in it
        "breaker": {"state": "closed", "failure_count": 0, "opened_at": None, "workers": []},
        "outbox": {"pending": 2, "delivering": 0, "delivered": 0, "failed": 0},
        "last_success_at": None,
        "last_failure_at": None,
        "sync": {"last_run": None, "next_run_at": None},  # reconciliation (see test_sync_api)
    }


@pytest.mark.gen_test
async def test_status_is_the_worst_live_worker(http_client, base_url, pms_db, pms_settings):
    store = pms_db.store
    endpoint = "1"  # breaker rows are keyed by endpoint id; endpoint 1 is the CRM
    opened = utcnow()
    for worker_id, snap in (
        ("w-closed", BreakerSnapshot("closed", 1, None)),
        ("w-open", BreakerSnapshot("open", 5, opened)),
        ("w-dead", BreakerSnapshot("open", 9, opened)),
    ):
        store.call(reporting.register_worker, worker_id)
        store.call(
            reporting.heartbeat, worker_id, {endpoint: snap}, {1: (None, opened if worker_id == "w-open" else None)}
        )
    # w-dead stopped heartbeating long ago: it no longer counts.
    from pms_app.models import BreakerState

    store.call(
        lambda: (
            BreakerState.update(updated_at=utcnow().replace(year=2020))
            .where(BreakerState.worker_id == "w-dead")
            .execute()
        )
    )
    data = json_of(await api(http_client, base_url, "GET", "/guests/webhook/status"))["data"]
    breaker = data["breaker"]
    assert (breaker["state"], breaker["failure_count"]) == ("open", 5)
    assert breaker["opened_at"].endswith("Z")
    assert [w["worker_id"] for w in breaker["workers"]] == ["w-closed", "w-open"]
    assert set(breaker["workers"][0]) == {"worker_id", "state", "failure_count", "opened_at", "updated_at"}
    assert data["last_failure_at"] is not None and data["last_success_at"] is None


@pytest.mark.gen_test
async def test_list_filters_and_pages(http_client, base_url, pms_db):
    guests = await make_guests(http_client, base_url, 3)
    r = await api(http_client, base_url, "PUT", f"/guests/{guests[0]['id']}", {"name": "Renamed"})
    assert r.code == 200
    r = await api(http_client, base_url, "GET", "/webhooks/deliveries")
    assert r.code == 200
    body = json_of(r)
    rows = body["data"]
    assert body["next_cursor"] is None
    assert [e["type"] for e in rows] == ["guest.updated", "guest.created", "guest.created", "guest.created"]
    assert all(set(e) == SUMMARY_KEYS for e in rows)
    assert [e["seq"] for e in rows] == sorted((e["seq"] for e in rows), reverse=True)
    first = rows[0]
    assert first["status"] == "pending" and first["entity_id"] == guests[0]["id"]
    assert first["entity_version"] == 2 and first["attempt_count"] == 0 and first["delivered_at"] is None
    assert first["next_attempt_at"].endswith("Z") and first["created_at"].endswith("Z")

    set_status(pms_db.store, rows[1]["id"], DELIVERED, delivered_at=utcnow())
    only = json_of(await api(http_client, base_url, "GET", "/webhooks/deliveries?status=delivered"))["data"]
    assert [e["id"] for e in only] == [rows[1]["id"]] and only[0]["next_attempt_at"] is None
    updated = json_of(await api(http_client, base_url, "GET", "/webhooks/deliveries?type=guest.updated"))["data"]
    assert [e["id"] for e in updated] == [rows[0]["id"]]

    page1 = json_of(await api(http_client, base_url, "GET", "/webhooks/deliveries?limit=3"))
    page2 = json_of(
        await api(http_client, base_url, "GET", f"/webhooks/deliveries?limit=3&cursor={page1['next_cursor']}")
    )
    assert [e["id"] for e in page1["data"] + page2["data"]] == [e["id"] for e in rows]
    assert page2["next_cursor"] is None

    tail = json_of(await api(http_client, base_url, "GET", f"/webhooks/deliveries?since_id={rows[2]['seq']}"))
    assert [e["id"] for e in tail["data"]] == [rows[1]["id"], rows[0]["id"]]  # ascending seq

    for bad in ("status=sent", "type=guest.exploded", "limit=-1", "limit=x", "since_id=a", "cursor=zzz"):
        r = await api(http_client, base_url, "GET", f"/webhooks/deliveries?{bad}")
        assert r.code == 422, bad
        assert json_of(r)["error"]["code"] == "validation_error"


@pytest.mark.gen_test
async def test_detail_has_payload_and_attempts(http_client, base_url, pms_db):
    (guest,) = await make_guests(http_client, base_url, 1)
    (summary,) = json_of(await api(http_client, base_url, "GET", "/webhooks/deliveries"))["data"]
    store = pms_db.store
    (claim,) = store.call(claims.claim_due, "w1", 1, 30, transaction=False)
    attempt = claims.AttemptRecord(utcnow(), 500, 12, "HTTP 500", "oops", False)
    store.call(claims.record_attempt, claim, attempt, utcnow())
    r = await api(http_client, base_url, "GET", f"/webhooks/deliveries/{summary['id']}")
    assert r.code == 200
    data = json_of(r)["data"]
    assert set(data) == SUMMARY_KEYS | {"payload", "attempts", "request", "destinations"}
    assert data["payload"] == guest
    assert data["attempt_count"] == 1 and data["status"] == "pending"
    assert data["attempts"] == [
        {
            "attempt": 1,
            "started_at": data["attempts"][0]["started_at"],
            "status_code": 500,
            "duration_ms": 12,
            "error": "HTTP 500",
            "response_body": "oops",
            "trigger": "scheduled",
            "replayed_by": None,
            "target_url": None,
            "request_headers": None,
        }
    ]
    for unknown in ("6f1c2d1e-0000-4000-8000-000000000000", "nope", "x" * 300):
        r = await api(http_client, base_url, "GET", f"/webhooks/deliveries/{unknown}")
        assert r.code == 404 and json_of(r)["error"]["code"] == "not_found"


@pytest.mark.gen_test
async def test_replay_one_whatever_its_state(http_client, base_url, pms_db):
    await make_guests(http_client, base_url, 1)
    (summary,) = json_of(await api(http_client, base_url, "GET", "/webhooks/deliveries"))["data"]
    set_status(pms_db.store, summary["id"], DELIVERED, delivered_at=utcnow(), attempt_count=1)
    r = await api(http_client, base_url, "POST", f"/webhooks/deliveries/{summary['id']}/replay")
    assert r.code == 202
    data = json_of(r)["data"]
    assert data["id"] == summary["id"] and data["status"] == PENDING
    # attempt_count counts every attempt ever: a replay does not reset it.
    assert data["attempt_count"] == 1 and data["delivered_at"] is None and data["next_attempt_at"]
    r = await api(http_client, base_url, "POST", "/webhooks/deliveries/6f1c2d1e-0000-4000-8000-000000000000/replay")
    assert r.code == 404 and json_of(r)["error"]["code"] == "not_found"


@pytest.mark.gen_test
async def test_replay_every_failed_event(http_client, base_url, pms_db):
    await make_guests(http_client, base_url, 4)
    rows = json_of(await api(http_client, base_url, "GET", "/webhooks/deliveries"))["data"]
    for row in rows[:3]:
        set_status(pms_db.store, row["id"], FAILED, attempt_count=9)
    set_status(pms_db.store, rows[3]["id"], DELIVERED, delivered_at=utcnow())
    r = await api(http_client, base_url, "POST", "/webhooks/deliveries/replay")
    assert r.code == 202 and json_of(r) == {"data": {"replayed": 3}}
    after = {e["id"]: e for e in json_of(await api(http_client, base_url, "GET", "/webhooks/deliveries"))["data"]}
    assert [after[row["id"]]["status"] for row in rows] == ["pending", "pending", "pending", "delivered"]
    assert all(after[row["id"]]["attempt_count"] == 9 for row in rows[:3])
    r = await api(http_client, base_url, "POST", "/webhooks/deliveries/replay")
    assert json_of(r) == {"data": {"replayed": 0}}


@pytest.mark.gen_test
async def test_breaker_transitions_are_listed_newest_first(http_client, base_url, pms_db):
    store = pms_db.store
    endpoint = "1"  # the CRM's breaker rows carry its endpoint id
    opened = utcnow()
    store.call(reporting.record_transition, "w-1", endpoint, BreakerSnapshot("open", 5, opened), "closed")
    store.call(reporting.record_transition, "w-1", endpoint, BreakerSnapshot("half_open", 5, opened), "open")
    store.call(reporting.record_transition, "w-1", endpoint, BreakerSnapshot("closed", 0, None), "half_open")
    r = await api(http_client, base_url, "GET", "/guests/webhook/transitions?limit=2")
    assert r.code == 200
    body = json_of(r)
    assert [(t["from"], t["to"]) for t in body["data"]] == [("half_open", "closed"), ("open", "half_open")]
    assert set(body["data"][0]) == {"id", "worker_id", "from", "to", "failure_count", "at"}
    r = await api(http_client, base_url, "GET", f"/guests/webhook/transitions?cursor={body['next_cursor']}")
    assert [(t["from"], t["to"], t["failure_count"]) for t in json_of(r)["data"]] == [("closed", "open", 5)]
