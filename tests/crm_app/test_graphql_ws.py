"""CRM subscriptions over ``graphql-transport-ws``, end to end with real websocket clients:
the protocol's messages and close codes, auth, delivery within a second of the commit, and a
slow subscriber being dropped without holding anyone else back."""

from __future__ import annotations

import dataclasses
import time

import pytest

from tests.crm_app.webhook_factory import guest, reservation
from tests.support.graphql import camel
from tests.support.graphql_ws import StalledClient, close_code, connect, initialised, receive, send
from tests.support.http import call, json_of
from tests.support.receivers import wait_for

EVENT = "id webhookId type status entityId entityVersion occurredAt receivedAt payload"
PROFILE = (
    "guestId email name phone dateOfBirth country version tier sources updatedAt stats { "
    "totalReservations activeReservations cancelledReservations totalNights averageNights "
    "lifetimeValue firstCheckIn lastCheckOut nextCheckIn }"
)


async def rest(http_client, base_url, path):
    response = await call(http_client, base_url, "GET", "/api/v1" + path)
    assert response.code == 200
    return json_of(response)["data"]


@pytest.mark.gen_test(timeout=30)
async def test_subscriptions_deliver_committed_changes_within_a_second(app, sender, http_client, base_url):
    feed = app.settings["change_feed"]
    conn = await initialised(base_url)
    await send(conn, {"type": "ping"})
    assert await receive(conn) == {"type": "pong"}
    await send(
        conn,
        {
            "id": "ev",
            "type": "subscribe",
            "payload": {
                "query": f"subscription ($t: [String!]) {{ eventRecorded(types: $t) {{ {EVENT} }} }}",
                "variables": {"t": ["guest.created", "reservation.created"]},
            },
        },
    )
    await send(
        conn,
        {
            "id": "pr",
            "type": "subscribe",
            "payload": {
                "query": f"subscription {{ profileChanged(guestId: 1) {{ guestId profile {{ {PROFILE} }} }} }}"
            },
        },
    )
    await wait_for(lambda: len(feed.listeners) == 2)

    sent_at = time.monotonic()
    await sender.send_ok("guest.created", guest(1))
    received = {}
    while len(received) < 2:
        message = await receive(conn, timeout=1.0)
        assert message["type"] == "next", message
        received[message["id"]] = message["payload"]
    assert time.monotonic() - sent_at < 1.0
    event = received["ev"]["data"]["eventRecorded"]
    assert event == camel(await rest(http_client, base_url, f"/events/{event['id']}"))
    change = received["pr"]["data"]["profileChanged"]
    assert change == {"guestId": 1, "profile": camel(await rest(http_client, base_url, "/guest-profiles/1"))}

    await sender.send_ok("guest.updated", guest(2, version=2))  # neither type nor guest matches
    await sender.send_ok("reservation.created", reservation(5, 1))
    # Each subscription's messages are in commit order; two subscriptions interleave freely.
    both = {m["id"]: m["payload"]["data"] for m in [await receive(conn, timeout=1.0) for _ in range(2)]}
    assert both["ev"]["eventRecorded"]["type"] == "reservation.created"
    assert both["pr"]["profileChanged"]["profile"]["stats"]["totalReservations"] == 1

    await send(conn, {"id": "ev", "type": "complete"})
    await wait_for(lambda: len(feed.listeners) == 1)
    await sender.send_ok("guest.deleted", {"id": 1, "version": 9, "deleted_at": "2026-01-02T10:00:00.000Z"})
    message = await receive(conn, timeout=1.0)
    assert message == {
        "id": "pr",
        "type": "next",
        "payload": {"data": {"profileChanged": {"guestId": 1, "profile": None}}},
    }
    conn.close()
    await wait_for(lambda: not feed.listeners)


@pytest.mark.gen_test
async def test_queries_and_refusals_over_the_socket(sender, base_url):
    await sender.send_ok("guest.created", guest(3))
    conn = await initialised(base_url)
    await send(conn, {"id": "q", "type": "subscribe", "payload": {"query": "{ guestProfile(guestId: 3) { name } }"}})
    assert await receive(conn) == {
        "id": "q",
        "type": "next",
        "payload": {"data": {"guestProfile": {"name": "Guest 3"}}},
    }
    assert await receive(conn) == {"id": "q", "type": "complete"}
    for query, code in (
        ("subscription { nope }", "graphql_validation_failed"),
        ("subscription {", "graphql_parse_failed"),
    ):
        await send(conn, {"id": "bad", "type": "subscribe", "payload": {"query": query}})
        message = await receive(conn)
        assert message["type"] == "error" and message["id"] == "bad"
        assert message["payload"][0]["extensions"]["code"] == code
    await send(conn, {"id": "same", "type": "subscribe", "payload": {"query": "subscription { eventRecorded { id } }"}})
    await send(conn, {"id": "same", "type": "subscribe", "payload": {"query": "subscription { eventRecorded { id } }"}})
    assert await close_code(conn) == 4409


@pytest.mark.gen_test(timeout=30)
async def test_protocol_errors_close_with_their_codes(app, http_server, base_url):
    conn = await connect(base_url)
    await send(conn, {"id": "1", "type": "subscribe", "payload": {"query": "subscription { eventRecorded { id } }"}})
    assert await close_code(conn) == 4401

    conn = await initialised(base_url)
    await send(conn, {"type": "connection_init"})
    assert await close_code(conn) == 4429

    for garbage in ("not json", '{"type": "hello"}', '["connection_init"]', '{"type": ["connection_init"]}'):
        conn = await connect(base_url)
        await conn.write_message(garbage)
        assert await close_code(conn) == 4400, garbage
    conn = await initialised(base_url)
    await send(conn, {"type": "subscribe", "payload": {"query": "{ events { edges { cursor } } }"}})  # no id
    assert await close_code(conn) == 4400

    conn = await connect(base_url, protocols=("graphql-ws",))
    assert await close_code(conn) == 4406

    app.settings["graphql_ws_init_timeout"] = 0.2
    conn = await connect(base_url)
    started = time.monotonic()
    assert await close_code(conn) == 4408
    assert time.monotonic() - started < 2


class TestAuth:
    @pytest.fixture
    def crm_settings(self, crm_settings):
        return dataclasses.replace(crm_settings, api_token="ws-token")

    @pytest.mark.gen_test
    async def test_token_in_connection_init(self, http_server, base_url):
        for payload in (None, {"Authorization": "Bearer wrong"}):
            conn = await connect(base_url)
            await send(conn, {"type": "connection_init", **({"payload": payload} if payload else {})})
            assert await close_code(conn) == 4403
        conn = await initialised(base_url, {"Authorization": "Bearer ws-token"})
        await send(conn, {"id": "q", "type": "subscribe", "payload": {"query": "{ events { edges { cursor } } }"}})
        assert (await receive(conn))["payload"] == {"data": {"events": {"edges": []}}}
        conn.close()
        conn = await connect(base_url, headers={"Authorization": "Bearer ws-token"})
        await send(conn, {"type": "connection_init"})
        assert await receive(conn) == {"type": "connection_ack"}
        conn.close()


@pytest.mark.gen_test(timeout=120)
async def test_a_slow_subscriber_is_dropped_and_others_get_everything(app, sender, base_url):
    feed = app.settings["change_feed"]
    feed.queue_size = 4
    query = {"query": 'subscription { eventRecorded(types: ["loyalty.points"]) { id payload } }'}
    fast = await initialised(base_url)
    await send(fast, {"id": "fast", "type": "subscribe", "payload": query})
    slow = await StalledClient.open(base_url)
    slow.send({"type": "connection_init"})
    opcode, ack = await slow.read_frame()
    assert opcode == 1 and b"connection_ack" in ack
    slow.send({"id": "slow", "type": "subscribe", "payload": query})
    await wait_for(lambda: len(feed.listeners) == 2)

    blob = "x" * 100_000
    count = 0
    got: list[int] = []
    # The stalled client's buffers fill (a few MB), then its queue, then it is dropped.
    while len(feed.listeners) == 2:
        count += 1
        assert count <= 200, "the stalled client was never dropped"
        await sender.send_ok("loyalty.points", {"id": count, "blob": blob})
        message = await receive(fast, timeout=1.0)
        got.append(message["payload"]["data"]["eventRecorded"]["payload"]["id"])
    assert count > 4
    for _ in range(3):
        count += 1
        await sender.send_ok("loyalty.points", {"id": count, "blob": blob})
        message = await receive(fast, timeout=1.0)
        got.append(message["payload"]["data"]["eventRecorded"]["payload"]["id"])
    assert got == list(range(1, count + 1))
    slow.close()
    fast.close()
    await wait_for(lambda: not feed.listeners)


@pytest.mark.gen_test(timeout=30)
async def test_plain_http_on_the_websocket_route_gets_the_api_json_error(app, http_client, base_url):
    """A GET without the websocket upgrade, or another method, is answered like every API error
    (JSON with the request id), not with an HTML page."""
    for method, status, code in (("GET", 400, "bad_request"), ("POST", 405, "method_not_allowed")):
        response = await call(http_client, base_url, method, "/api/v1/graphql/ws")
        assert response.code == status, response.body
        assert response.headers["Content-Type"].startswith("application/json")
        error = json_of(response)["error"]
        assert error["code"] == code
        assert error["request_id"] == response.headers["X-Request-ID"]
