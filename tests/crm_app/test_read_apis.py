"""The CRM's read APIs and cross-cutting routes: audit log, rejections, API_TOKEN, health,
secret rotation."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core.db import Store, open_database
from tests.crm_app.servers import running_app
from tests.crm_app.webhook_factory import PLAIN_SECRET, SECRET, Sender, envelope, guest, reservation, signed_request
from tests.support.http import call, json_of


async def get(http_client, base_url, path: str, **headers):
    response = await call(http_client, base_url, "GET", path, headers=headers)
    return response.code, json_of(response)


@pytest.mark.gen_test
async def test_events_list_shape_filters_and_pages(sender, http_client, base_url):
    first = await sender.send_ok("guest.created", guest(1))
    await sender.send_ok("guest.updated", guest(1, version=2))
    await sender.send_ok("reservation.created", reservation(1, 1))
    await sender.send_ok("guest.updated", guest(1, version=2, name="late copy"))  # stale
    await sender.send_ok("loyalty.points", {"id": 1})  # ignored

    code, body = await get(http_client, base_url, "/api/v1/events")
    assert code == 200 and body["next_cursor"] is None
    events = body["data"]
    assert [e["type"] for e in events] == [
        "loyalty.points",
        "guest.updated",
        "reservation.created",
        "guest.updated",
        "guest.created",
    ]
    oldest = events[-1]
    assert set(oldest) == {
        "id",
        "webhook_id",
        "type",
        "status",
        "entity_id",
        "entity_version",
        "occurred_at",
        "received_at",
        "payload",
    }
    assert (oldest["webhook_id"], oldest["status"], oldest["entity_id"], oldest["entity_version"]) == (
        first["id"],
        "processed",
        1,
        1,
    )
    assert oldest["payload"]["email"] == "guest1@example.com"
    assert oldest["occurred_at"].endswith("Z") and oldest["received_at"].endswith("Z")

    async def ids(query):
        code, body = await get(http_client, base_url, f"/api/v1/events{query}")
        assert code == 200, body
        return [e["type"] + "/" + e["status"] for e in body["data"]]

    assert await ids("?type=guest.updated") == ["guest.updated/stale", "guest.updated/processed"]
    assert await ids("?status=stale") == ["guest.updated/stale"]
    assert await ids("?status=ignored") == ["loyalty.points/ignored"]
    assert await ids("?entity_id=1&type=reservation.created") == ["reservation.created/processed"]
    assert await ids("?type=nothing") == []

    code, page = await get(http_client, base_url, "/api/v1/events?limit=2")
    assert [e["id"] for e in page["data"]] == [events[0]["id"], events[1]["id"]]
    code, page2 = await get(http_client, base_url, f"/api/v1/events?limit=2&cursor={page['next_cursor']}")
    assert [e["id"] for e in page2["data"]] == [events[2]["id"], events[3]["id"]]
    code, page3 = await get(http_client, base_url, f"/api/v1/events?limit=2&cursor={page2['next_cursor']}")
    assert [e["id"] for e in page3["data"]] == [events[4]["id"]] and page3["next_cursor"] is None
    code, tail = await get(http_client, base_url, f"/api/v1/events?since_id={events[2]['id']}")
    assert [e["id"] for e in tail["data"]] == [events[1]["id"], events[0]["id"]]
    code, capped = await get(http_client, base_url, "/api/v1/events?limit=100000")
    assert code == 200 and len(capped["data"]) == 5

    code, one = await get(http_client, base_url, f"/api/v1/events/{oldest['id']}")
    assert code == 200 and one["data"] == oldest
    for path in ("/api/v1/events/999999", "/api/v1/events/123456789012345678901234", "/api/v1/events/x"):
        code, body = await get(http_client, base_url, path)
        assert code == 404 and body["error"]["code"] == "not_found"
    for query in ("?status=done", "?entity_id=-3", "?limit=0", "?since_id=a"):
        code, body = await get(http_client, base_url, f"/api/v1/events{query}")
        assert code == 422 and body["error"]["code"] == "validation_error", query


@pytest.mark.gen_test
async def test_rejections_list_shape_and_pages(sender, http_client, base_url):
    webhook_id, body = envelope("guest.created", guest(1))
    raw = json.dumps(body).encode()
    headers = signed_request(raw, webhook_id, secrets=(PLAIN_SECRET,))
    for _ in range(3):
        await sender.post_raw(raw, headers)
    await sender.post_raw(raw, {"Content-Type": "application/json"})
    code, body = await get(http_client, base_url, "/api/v1/webhooks/rejections")
    assert code == 200
    rows = body["data"]
    assert [r["reason"] for r in rows] == ["missing_header"] + ["invalid_signature"] * 3
    assert set(rows[0]) == {"id", "reason", "remote_ip", "received_at", "webhook_id"}
    assert (rows[0]["webhook_id"], rows[1]["webhook_id"], rows[1]["remote_ip"]) == (None, webhook_id, "127.0.0.1")
    code, page = await get(http_client, base_url, "/api/v1/webhooks/rejections?limit=3")
    assert len(page["data"]) == 3 and page["next_cursor"]
    code, rest = await get(http_client, base_url, f"/api/v1/webhooks/rejections?limit=3&cursor={page['next_cursor']}")
    assert [r["id"] for r in rest["data"]] == [rows[3]["id"]]
    code, by_reason = await get(http_client, base_url, "/api/v1/webhooks/rejections?reason=missing_header")
    assert [r["id"] for r in by_reason["data"]] == [rows[0]["id"]]
    code, events = await get(http_client, base_url, "/api/v1/events")
    assert events["data"] == []


@pytest.mark.gen_test
async def test_api_token_guards_every_route_but_health_metrics_and_receiver(crm_db, http_client, crm_settings):
    async with running_app(replace(crm_settings, api_token="s3cret"), crm_db.store) as url:
        for path in (
            "/api/v1/events",
            "/api/v1/events/1",
            "/api/v1/guest-profiles",
            "/api/v1/guest-profiles/1",
            "/api/v1/webhooks/rejections",
        ):
            code, body = await get(http_client, url, path)
            assert (code, body["error"]["code"]) == (401, "unauthorized"), path
            code, _ = await get(http_client, url, path, Authorization="Bearer wrong")
            assert code == 401, path
            code, _ = await get(http_client, url, path, Authorization="Bearer s3cret")
            assert code in (200, 404), path
        assert (await get(http_client, url, "/api/v1/health"))[0] == 200
        assert (await call(http_client, url, "GET", "/metrics")).code == 200
        assert (await Sender(http_client, url).send("guest.created", guest(1))).code == 202


@pytest.mark.gen_test
async def test_health_is_200_with_the_database_and_503_without(http_client, base_url, crm_settings):
    code, body = await get(http_client, base_url, "/api/v1/health")
    assert (code, body) == (200, {"status": "ok", "service": "crm", "database": "ok"})
    dead = Store(open_database("mysql://root@127.0.0.1:1/nowhere"), max_workers=1, name="dead")
    try:
        async with running_app(crm_settings, dead) as url:
            code, body = await get(http_client, url, "/api/v1/health")
            assert (code, body["database"], body["service"]) == (503, "unavailable", "crm")
            response = await Sender(http_client, url).send("guest.created", guest(1))
            assert (response.code, json_of(response)["error"]["code"]) == (503, "service_unavailable")
    finally:
        dead.close()


@pytest.mark.gen_test
async def test_secret_rotation(crm_db, http_client, crm_settings):
    both = replace(crm_settings, webhook_secrets=(PLAIN_SECRET, SECRET))
    async with running_app(both, crm_db.store) as url:
        sender = Sender(http_client, url)
        assert (await sender.send("guest.created", guest(1), secrets=(PLAIN_SECRET,))).code == 202
        assert (await sender.send("guest.created", guest(2), secrets=(SECRET,))).code == 202
        assert (await sender.send("guest.created", guest(3), secrets=(PLAIN_SECRET, SECRET))).code == 202
    new_only = replace(crm_settings, webhook_secrets=(SECRET,))
    async with running_app(new_only, crm_db.store) as url:
        sender = Sender(http_client, url)
        old = await sender.send("guest.created", guest(4), secrets=(PLAIN_SECRET,))
        assert (old.code, json_of(old)["error"]["code"]) == (401, "invalid_signature")
        assert (await sender.send("guest.created", guest(5), secrets=(SECRET,))).code == 202


@pytest.mark.gen_test
async def test_events_of_one_guest_include_its_reservation_events(sender, http_client, base_url):
    await sender.send_ok("guest.created", guest(1))
    await sender.send_ok("guest.created", guest(2))
    await sender.send_ok("reservation.created", reservation(10, 1))
    await sender.send_ok("reservation.created", reservation(11, 2))
    await sender.send_ok("reservation.updated", reservation(11, 1, version=2))  # moved to guest 1
    code, body = await get(http_client, base_url, "/api/v1/events?guest_id=1")
    assert code == 200
    assert [(e["type"], e["entity_id"]) for e in body["data"]] == [
        ("reservation.updated", 11),
        ("reservation.created", 10),
        ("guest.created", 1),
    ]
