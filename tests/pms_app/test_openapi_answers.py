"""The PMS's answers on the delivery triage routes, with every optional part filled in (live
breaker workers, attempts old and new, an event delivered to a deleted endpoint, an ambiguous
short id), match the schemas its OpenAPI document gives for them, field by field."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import utcnow
from pms_app.delivery.models import BreakerTransition
from pms_app.models import DELIVERED, FAILED, BreakerState, Delivery, DeliveryAttempt, OutboxEvent
from tests.support.delivery import add_event
from tests.support.endpoints import add_endpoint
from tests.support.http import call, json_of
from tests.support.openapi import assert_conforms, schema_errors

API = "/api/v1"
OPERATOR = {"X-Operator": "alice"}


def populate(store) -> dict:
    """Endpoint 1 with a live open breaker, a second endpoint with a password in its URL and two
    secrets, a third deleted after delivering; attempts with and without their request recorded."""
    sink = add_endpoint(
        store,
        "sink",
        "https://sink:hunter2@sink.example/hook",
        secrets=("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
    )
    gone = add_endpoint(store, "gone", "https://gone.example/hook")
    ids = [add_event(store, entity_id=n) for n in (1, 2, 3)]
    now = utcnow()

    def write():
        def rename(old, new):
            OutboxEvent.update(id=new).where(OutboxEvent.id == old).execute()
            Delivery.update(event_id=new).where(Delivery.event_id == old).execute()

        rename(ids[0], "abcd1234-0000-4000-8000-000000000001")
        rename(ids[1], "abcd1234-0000-4000-8000-000000000002")
        first = "abcd1234-0000-4000-8000-000000000001"
        Delivery.update(status=DELIVERED, delivered_at=now).where(
            (Delivery.event_id == first) & (Delivery.endpoint_id == gone)
        ).execute()
        crm = Delivery.get((Delivery.event_id == first) & (Delivery.endpoint_id == 1))
        crm.status, crm.attempt_count, crm.last_error, crm.last_status_code = FAILED, 2, "HTTP 503", 503
        crm.save()
        DeliveryAttempt.create(
            event_id=first,
            delivery_id=crm.id,
            attempt=1,
            started_at=now - dt.timedelta(minutes=5),
            status_code=None,
            duration_ms=None,
            error="connection refused",
        )
        DeliveryAttempt.create(
            event_id=first,
            delivery_id=crm.id,
            attempt=2,
            started_at=now,
            status_code=503,
            duration_ms=120,
            error="HTTP 503",
            response_body="busy",
            target_url="https://crm.example/hook",
            signatures=2,
        )
        BreakerState.create(worker_id="w1", endpoint="1", state="open", failure_count=5, opened_at=now, updated_at=now)
        BreakerTransition.create(
            worker_id="w1", endpoint="1", from_state="closed", to_state="open", failure_count=5, at=now
        )

    store.call(write)
    return {"sink": sink, "gone": gone, "event": "abcd1234-0000-4000-8000-000000000001", "other": ids[2]}


async def get(http_client, base_url, document, path, status=200, method="GET"):
    response = await call(http_client, base_url, method, API + path, headers=OPERATOR)
    assert response.code == status, (path, response.body)
    body = json_of(response)
    assert_conforms(document, method, API + path.split("?")[0], status, body)
    return body


@pytest.mark.gen_test
async def test_the_triage_answers_match_the_document(http_client, base_url, pms_db):
    made = populate(pms_db.store)
    document = json_of(await call(http_client, base_url, "GET", f"{API}/openapi.json"))
    deleted = await call(http_client, base_url, "DELETE", f"{API}/endpoints/{made['gone']}", headers=OPERATOR)
    assert deleted.code == 204
    answer = lambda *args, **kwargs: get(http_client, base_url, document, *args, **kwargs)  # noqa: E731

    detail = (await answer(f"/webhooks/deliveries/{made['event']}"))["data"]
    assert [a["request_headers"] is None for a in detail["attempts"]] == [True, False]
    assert detail["attempts"][1]["request_headers"]["webhook-signature"] == "v1,*** v1,***"
    names = {d["endpoint_id"]: d["endpoint_name"] for d in detail["destinations"]}
    assert names == {1: "crm", made["sink"]: "sink", made["gone"]: None}
    orphan = (await answer(f"/endpoints/{made['gone']}/deliveries/abcd1234-0000-4000-8000-000000000001"))["data"]
    assert orphan["request"]["url"] is None
    shown = (await answer(f"/endpoints/{made['sink']}/deliveries/{made['other'][:8]}"))["data"]
    assert shown["request"]["url"] == "https://sink:***@sink.example/hook"

    for method, path in (
        ("GET", "/webhooks/deliveries/abcd1234"),
        ("POST", "/webhooks/deliveries/abcd1234/replay"),
        ("GET", "/endpoints/1/deliveries/abcd"),
        ("POST", "/endpoints/1/deliveries/abcd/replay"),
    ):
        conflict = await answer(path, status=409, method=method)
        assert conflict["error"]["code"] == "conflict"

    filters = "status=failed&type=guest.updated&entity_id=1&guest_id=1&since=2020-01-01T00:00:00Z&id_prefix=ABCD"
    assert (await answer(f"/webhooks/deliveries?{filters}&until=2999-01-01T00:00:00%2B02:00"))["data"]
    assert (await answer(f"/webhooks/deliveries/count?{filters}"))["data"] == {"count": 1}
    assert (await answer(f"/endpoints/1/deliveries/count?{filters}"))["data"] == {"count": 1}
    await answer(f"/endpoints/{made['gone']}/deliveries/count", status=404)

    health = (await answer("/endpoints/health"))["data"]
    crm = health[0]
    assert crm["breaker"]["state"] == "open" and crm["breaker"]["workers"][0]["worker_id"] == "w1"
    assert crm["last_hour"]["attempts"] == 2 and crm["last_hour"]["p50_ms"] == 120

    activity = (await answer("/endpoints/activity"))["data"]
    assert activity["overall"]["last_hour"]["failed"] == 2
    assert [e["endpoint_id"] for e in activity["endpoints"]] == [1, made["sink"]]
    assert sum(m["failed"] for m in activity["endpoints"][0]["minutes"]) == 2

    history = await answer("/endpoints/1/transitions")
    assert [t["to"] for t in history["data"]] == ["open"]
    await answer(f"/endpoints/{made['gone']}/transitions", status=404)


@pytest.mark.gen_test
async def test_a_body_missing_a_documented_field_does_not_match(http_client, base_url, pms_db):
    """The check above can fail: the document's schemas require what the routes promise."""
    made = populate(pms_db.store)
    document = json_of(await call(http_client, base_url, "GET", f"{API}/openapi.json"))
    path = f"{API}/webhooks/deliveries/{made['event']}"
    detail = json_of(await call(http_client, base_url, "GET", path))
    assert not schema_errors(document, "GET", path, 200, detail)
    for field in ("destinations", "request", "last_error"):
        broken = {"data": {k: v for k, v in detail["data"].items() if k != field}}
        assert schema_errors(document, "GET", path, 200, broken), field
    wrong = {"data": {**detail["data"], "attempts": [{**detail["data"]["attempts"][1], "target_url": 7}]}}
    assert schema_errors(document, "GET", path, 200, wrong)
