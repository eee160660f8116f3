"""What the dashboard's triage pages read from the PMS, through the real app: the delivery list
filters (entity, guest, time range, id prefix), short ids on every delivery route, counts,
a delivery's destinations and request, every endpoint's health, an endpoint's breaker history."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import utcnow
from pms_app.delivery.models import BreakerTransition
from pms_app.models import DELIVERED, FAILED, Delivery, DeliveryAttempt, OutboxEvent
from tests.support.delivery import add_event
from tests.support.endpoints import add_endpoint
from tests.support.http import call, json_of

OPERATOR = {"X-Operator": "alice"}


async def api(http_client, base_url, method, path, body=None, headers=None):
    return await call(http_client, base_url, method, "/api/v1" + path, body, headers=headers)


async def data_of(http_client, base_url, path):
    response = await api(http_client, base_url, "GET", path)
    assert response.code == 200, (path, response.body)
    return json_of(response)["data"]


def rename(store, old: str, new: str) -> None:
    """Give an event a chosen id (so tests control which ids share a prefix)."""

    def write():
        OutboxEvent.update(id=new).where(OutboxEvent.id == old).execute()
        Delivery.update(event_id=new).where(Delivery.event_id == old).execute()

    store.call(write)


def set_delivery(store, event_id: str, endpoint_id: int = 1, **fields) -> None:
    store.call(
        lambda: (
            Delivery.update(**fields)
            .where((Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id))
            .execute()
        )
    )


@pytest.mark.gen_test
async def test_list_filters_by_entity_guest_time_and_id_prefix(http_client, base_url, pms_db):
    store = pms_db.store
    guest = json_of(await api(http_client, base_url, "POST", "/guests", {"email": "a@example.com", "name": "A"}))[
        "data"
    ]
    other = json_of(await api(http_client, base_url, "POST", "/guests", {"email": "b@example.com", "name": "B"}))[
        "data"
    ]
    reservation = json_of(
        await api(
            http_client,
            base_url,
            "POST",
            "/reservations",
            {"guest_id": guest["id"], "check_in": "2027-01-01", "check_out": "2027-01-03"},
        )
    )["data"]
    rows = await data_of(http_client, base_url, "/webhooks/deliveries")
    by_type = {r["type"] + str(r["entity_id"]): r for r in rows}
    created_res = by_type[f"reservation.created{reservation['id']}"]
    old = by_type[f"guest.created{other['id']}"]
    set_delivery(store, old["id"], created_at=utcnow() - dt.timedelta(days=2))

    mine = await data_of(http_client, base_url, f"/webhooks/deliveries?guest_id={guest['id']}")
    assert {r["id"] for r in mine} == {by_type[f"guest.created{guest['id']}"]["id"], created_res["id"]}
    assert [
        r["id"]
        for r in await data_of(
            http_client, base_url, f"/webhooks/deliveries?entity_id={reservation['id']}&type=reservation.created"
        )
    ] == [created_res["id"]]
    since = (utcnow() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = await data_of(http_client, base_url, f"/webhooks/deliveries?since={since}")
    assert old["id"] not in {r["id"] for r in recent} and len(recent) == 2
    assert [r["id"] for r in await data_of(http_client, base_url, f"/webhooks/deliveries?until={since}")] == [old["id"]]
    prefix = created_res["id"][:8].upper()  # case does not matter
    assert [r["id"] for r in await data_of(http_client, base_url, f"/webhooks/deliveries?id_prefix={prefix}")] == [
        created_res["id"]
    ]
    # the same filters per endpoint, and counted over all pages
    assert {
        r["id"] for r in await data_of(http_client, base_url, f"/endpoints/1/deliveries?guest_id={guest['id']}")
    } == {r["id"] for r in mine}
    assert (await data_of(http_client, base_url, f"/endpoints/1/deliveries/count?guest_id={guest['id']}")) == {
        "count": 2
    }
    assert (await data_of(http_client, base_url, "/webhooks/deliveries/count")) == {"count": 3}
    assert (await data_of(http_client, base_url, f"/webhooks/deliveries/count?since={since}&status=pending")) == {
        "count": 2
    }

    for bad in ("id_prefix=xyz", "id_prefix=%25", "since=yesterday", "until=2026-13-01", "guest_id=-1"):
        for path in (
            "/webhooks/deliveries",
            "/endpoints/1/deliveries",
            "/webhooks/deliveries/count",
            "/endpoints/1/deliveries/count",
        ):
            response = await api(http_client, base_url, "GET", f"{path}?{bad}")
            assert response.code == 422, (path, bad)
            assert json_of(response)["error"]["details"][0]["field"] == bad.split("=")[0]
    assert (await api(http_client, base_url, "GET", "/endpoints/99/deliveries/count")).code == 404


@pytest.mark.gen_test
async def test_short_ids_work_on_every_delivery_route_and_an_ambiguous_one_says_so(http_client, base_url, pms_db):
    store = pms_db.store
    ids = [add_event(store, entity_id=n) for n in (1, 2, 3)]
    rename(store, ids[0], "abcd1234-0000-4000-8000-000000000001")
    rename(store, ids[1], "abcd1234-0000-4000-8000-000000000002")
    rename(store, ids[2], "abcd9999-0000-4000-8000-000000000003")

    detail = await data_of(http_client, base_url, "/webhooks/deliveries/abcd9999")
    assert detail["id"] == "abcd9999-0000-4000-8000-000000000003"
    assert (await data_of(http_client, base_url, "/endpoints/1/deliveries/ABCD99"))["entity_id"] == 3
    replayed = await api(http_client, base_url, "POST", "/endpoints/1/deliveries/abcd9999/replay", headers=OPERATOR)
    assert replayed.code == 202 and json_of(replayed)["data"]["id"] == detail["id"]
    assert (
        await api(
            http_client,
            base_url,
            "POST",
            "/webhooks/deliveries/abcd1234-0000-4000-8000-000000000002/replay",
            headers=OPERATOR,
        )
    ).code == 202

    for method, path in (
        ("GET", "/webhooks/deliveries/abcd1234"),
        ("GET", "/endpoints/1/deliveries/abcd"),
        ("POST", "/webhooks/deliveries/abcd1234/replay"),
        ("POST", "/endpoints/1/deliveries/abcd/replay"),
    ):
        response = await api(http_client, base_url, method, path, headers=OPERATOR)
        assert response.code == 409, path
        error = json_of(response)["error"]
        assert error["code"] == "conflict"
        assert f"matches {3 if path.endswith(('abcd', 'abcd/replay')) else 2} deliveries" in error["message"]
        assert "give more of its characters" in error["message"]
    statuses = store.call(lambda: dict(Delivery.select(Delivery.event_id, Delivery.next_trigger).tuples()))
    assert statuses["abcd1234-0000-4000-8000-000000000001"] == "scheduled", "an ambiguous replay acted"

    for missing in ("abc", "ffff0000", "abcd1234-0000-4000-8000-0000000000099", "not-hex!"):
        assert (await api(http_client, base_url, "GET", f"/webhooks/deliveries/{missing}")).code == 404, missing


@pytest.mark.gen_test
async def test_detail_lists_every_destination_and_the_request_with_secrets_masked(http_client, base_url, pms_db):
    store = pms_db.store
    add_endpoint(
        store,
        "audit-sink",
        "https://sink:hunter2@audit.example/hook",
        event_types=["guest.*"],
        secrets=("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
    )
    event_id = add_event(store, entity_id=5)
    set_delivery(store, event_id, 1, status=FAILED, attempt_count=3, last_error="HTTP 500", last_status_code=500)
    detail = await data_of(http_client, base_url, f"/webhooks/deliveries/{event_id}")
    assert [(d["endpoint_id"], d["endpoint_name"], d["status"]) for d in detail["destinations"]] == [
        (1, "crm", "failed"),
        (2, "audit-sink", "pending"),
    ]
    assert detail["destinations"][0]["last_status_code"] == 500 and detail["destinations"][0]["attempt_count"] == 3
    other = await data_of(http_client, base_url, f"/endpoints/2/deliveries/{event_id}")
    request = other["request"]
    assert request["method"] == "POST" and request["url"] == "https://sink:***@audit.example/hook"
    assert request["headers"]["webhook-id"] == event_id
    assert request["headers"]["webhook-signature"] == "v1,*** v1,***"  # one per valid secret
    assert "whsec_" not in str(other) and "hunter2" not in str(other)


@pytest.mark.gen_test
async def test_health_of_every_endpoint(http_client, base_url, pms_db):
    store = pms_db.store
    second = add_endpoint(store, "quiet", "https://quiet.example/hook", enabled=False)
    now = utcnow()
    ids = [add_event(store, entity_id=n) for n in range(1, 6)]
    set_delivery(store, ids[0], 1, status=DELIVERED, delivered_at=now)
    set_delivery(store, ids[1], 1, status=FAILED)
    set_delivery(store, ids[2], 1, created_at=now - dt.timedelta(minutes=10))  # the oldest pending
    set_delivery(store, ids[0], second, status=FAILED)  # the others are held: it is disabled

    def attempts():
        seq = {d.event_id: d.id for d in Delivery.select().where(Delivery.endpoint_id == 1)}
        rows = [(ids[0], 202, 40), (ids[1], 500, 100), (ids[1], 500, 300), (ids[1], None, 2000)]
        for n, (event_id, code, ms) in enumerate(rows):
            DeliveryAttempt.create(
                event_id=event_id,
                delivery_id=seq[event_id],
                attempt=n + 1,
                started_at=now,
                status_code=code,
                duration_ms=ms,
            )
        # older than the hour: not counted
        DeliveryAttempt.create(
            event_id=ids[0],
            delivery_id=seq[ids[0]],
            attempt=9,
            started_at=now - dt.timedelta(hours=2),
            status_code=200,
            duration_ms=1,
        )

    store.call(attempts)

    health = await data_of(http_client, base_url, "/endpoints/health")
    assert [h["endpoint_id"] for h in health] == [1, second]
    crm, quiet = health
    assert crm["name"] == "crm" and crm["enabled"] is True and crm["breaker"]["state"] == "closed"
    assert crm["deliveries"] == {"pending": 3, "delivering": 0, "held": 0, "failed": 1}
    assert 590 <= crm["oldest_pending_age_seconds"] <= 700 and crm["oldest_pending_at"].endswith("Z")
    assert crm["last_hour"] == {
        "attempts": 4,
        "succeeded": 1,
        "failed": 3,
        "success_rate": 0.25,
        "p50_ms": 100,
        "p95_ms": 2000,
    }
    assert quiet["enabled"] is False and quiet["disabled_reason"] == "manual"
    assert quiet["deliveries"] == {"pending": 0, "delivering": 0, "held": 4, "failed": 1}
    assert quiet["oldest_pending_at"] is None and quiet["oldest_pending_age_seconds"] is None
    assert quiet["last_hour"] == {
        "attempts": 0,
        "succeeded": 0,
        "failed": 0,
        "success_rate": None,
        "p50_ms": None,
        "p95_ms": None,
    }
    paged = json_of(await api(http_client, base_url, "GET", "/endpoints/health?limit=1"))
    assert [h["endpoint_id"] for h in paged["data"]] == [1] and paged["next_cursor"]


@pytest.mark.gen_test
async def test_breaker_history_per_endpoint(http_client, base_url, pms_db):
    store = pms_db.store
    second = add_endpoint(store, "flaky", "https://flaky.example/hook")

    def write():
        for endpoint, to_state in (("1", "open"), (str(second), "open"), (str(second), "half_open")):
            BreakerTransition.create(
                worker_id="w1", endpoint=endpoint, from_state="closed", to_state=to_state, failure_count=5, at=utcnow()
            )

    store.call(write)
    history = json_of(await api(http_client, base_url, "GET", f"/endpoints/{second}/transitions"))
    assert [t["to"] for t in history["data"]] == ["half_open", "open"] and history["next_cursor"] is None
    assert set(history["data"][0]) == {"id", "worker_id", "from", "to", "failure_count", "at"}
    assert [t["to"] for t in await data_of(http_client, base_url, "/endpoints/1/transitions")] == ["open"]
    assert (await api(http_client, base_url, "GET", "/endpoints/42/transitions")).code == 404


@pytest.mark.gen_test
async def test_a_time_whose_offset_leaves_the_calendar_is_a_422(http_client, base_url, pms_db):
    """Well-formed ISO 8601 times that cannot be moved to UTC (the first day with a positive
    offset, the last with a negative one) are refused like any bad time, not a 500."""
    for name, value in (("since", "0001-01-01T00:00:00%2B01:00"), ("until", "9999-12-31T23:59:59-01:00")):
        for path in (
            "/webhooks/deliveries",
            "/endpoints/1/deliveries",
            "/webhooks/deliveries/count",
            "/endpoints/1/deliveries/count",
        ):
            response = await api(http_client, base_url, "GET", f"{path}?{name}={value}")
            assert response.code == 422, (path, name, response.body)
            assert json_of(response)["error"]["details"][0]["field"] == name
    replay = await api(
        http_client,
        base_url,
        "POST",
        "/endpoints/1/deliveries/replay",
        {"since": "0001-01-01T00:00:00+01:00"},
        headers=OPERATOR,
    )
    assert replay.code == 422 and json_of(replay)["error"]["details"][0]["field"] == "since"
    edge = await api(http_client, base_url, "GET", "/webhooks/deliveries?since=0001-01-01T00:00:00Z")
    assert edge.code == 200  # the calendar's first moment in UTC itself is fine
