"""``/ws/live`` through the real dashboard app: login, Origin, fan-out, one poll for all, slow clients."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketClientConnection

from dashboard.app import close_app, make_app
from dashboard.config import DashboardSettings
from pms_app.app import make_app as make_pms_app
from pms_app.config import PmsSettings
from tests.support.http import call, json_of
from tests.support.receivers import wait_for

from .support import TOKEN, Visitor, add_operator, remove_operator, serve_app


async def next_message(ws: WebSocketClientConnection, kind: str, timeout: float = 10.0) -> dict:
    """The next message of ``kind`` (others are skipped)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise AssertionError(f"no {kind} message within {timeout}s")
        raw = await asyncio.wait_for(ws.read_message(), remaining)
        assert raw is not None, "the socket closed"
        message = json.loads(raw)
        assert set(message) == {"kind", "data"}
        if message["kind"] == kind:
            return message["data"]


async def baseline_taken(hub) -> None:
    start = hub.poller.ticks
    await wait_for(lambda: hub.poller.ticks >= start + 1, message="the poller's first tick")


@pytest.mark.gen_test
async def test_websocket_needs_a_login(visitor):
    with pytest.raises(HTTPClientError) as refused:
        await visitor.websocket()
    assert refused.value.code == 401
    visitor.cookies["gs_session"] = "forged"
    with pytest.raises(HTTPClientError):
        await visitor.websocket()


async def closed_with(ws: WebSocketClientConnection, timeout: float = 5.0) -> int | None:
    """Read until the server closes the socket; its close code."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        assert remaining > 0, "the socket stayed open"
        if await asyncio.wait_for(ws.read_message(), remaining) is None:
            return ws.close_code


@pytest.mark.gen_test
async def test_signing_out_closes_the_open_live_feed(http_client, base_url, fake_pms, fake_crm, hub):
    browser, other = Visitor(http_client, base_url), Visitor(http_client, base_url)
    await browser.login()
    await other.login()
    ws, other_ws = await browser.websocket(), await other.websocket()
    cookie = dict(browser.cookies)
    await wait_for(lambda: len(hub.clients) == 2, message="both clients")
    await browser.logout()
    assert await closed_with(ws) == 4401
    await wait_for(lambda: len(hub.clients) == 1, message="the signed-out client to leave the hub")
    row = fake_pms.add_delivery()
    assert await next_message(other_ws, "delivery") == row  # the other session's feed goes on
    browser.cookies.update(cookie)
    with pytest.raises(HTTPClientError) as refused:
        await browser.websocket()
    assert refused.value.code == 401
    other_ws.close()


@pytest.mark.gen_test
async def test_removing_an_operator_or_changing_a_password_closes_their_feeds(
    http_client, base_url, fake_pms, fake_crm, hub, users_file
):
    add_operator(users_file, "alice", "correct horse battery")
    add_operator(users_file, "bob", "bob's long password")
    alice, bob, ops = (Visitor(http_client, base_url) for _ in range(3))
    await alice.sign_in("alice", "correct horse battery")
    await bob.sign_in("bob", "bob's long password")
    await ops.login()
    alice_ws, bob_ws, ops_ws = await alice.websocket(), await bob.websocket(), await ops.websocket()
    await wait_for(lambda: len(hub.clients) == 3, message="three clients")
    # changed from the command line: no request of alice's comes in, the feed alone must notice
    add_operator(users_file, "alice", "a brand new password")
    assert await closed_with(alice_ws) == 4401
    remove_operator(users_file, "bob")
    assert await closed_with(bob_ws) == 4401
    row = fake_pms.add_delivery()
    assert await next_message(ops_ws, "delivery") == row
    ops_ws.close()


@pytest.mark.gen_test
async def test_websocket_refuses_a_foreign_origin(visitor, fake_pms, fake_crm, hub):
    await visitor.login()
    with pytest.raises(HTTPClientError) as refused:
        await visitor.websocket(origin="http://evil.example")
    assert refused.value.code == 403
    port = visitor.base_url.rsplit(":", 1)[1]
    with pytest.raises(HTTPClientError):
        await visitor.websocket(origin=f"http://evil.example:{port}")
    assert not hub.clients


@pytest.mark.gen_test
async def test_a_change_in_the_pms_reaches_a_connected_client(visitor, fake_pms, fake_crm, hub):
    await visitor.login()
    ws = await visitor.websocket()
    await baseline_taken(hub)
    row = fake_pms.add_delivery("guest.updated", entity_id=42)
    assert await next_message(ws, "delivery") == row
    fake_pms.breaker.update(state="open", failure_count=5, opened_at="2026-11-29T10:00:00.000Z")
    assert (await next_message(ws, "breaker"))["state"] == "open"
    event = fake_crm.add_event("guest.updated", entity_id=42)
    profile = fake_crm.add_profile(42, name="Zoë")
    assert await next_message(ws, "event") == event
    assert await next_message(ws, "profile") == profile
    ws.close()


@pytest.mark.gen_test
async def test_a_notification_reaches_every_connected_client(visitor, fake_pms, fake_crm, hub):
    await visitor.login()
    sockets = [await visitor.websocket() for _ in range(2)]
    await baseline_taken(hub)
    notification = fake_pms.add_notification("endpoint.disabled", endpoint_id=3, data={"reason": "gone"})
    for ws in sockets:
        assert await next_message(ws, "notification") == notification
        ws.close()


@pytest.mark.gen_test
async def test_one_poll_per_interval_whatever_the_number_of_clients(visitor, fake_pms, fake_crm, hub):
    await visitor.login()
    sockets = [await visitor.websocket() for _ in range(8)]
    await baseline_taken(hub)
    await wait_for(lambda: hub.poller.ticks >= 3, message="three ticks")
    ticks_before = hub.poller.ticks
    events_before = fake_crm.state.count("/api/v1/events")
    deliveries_before = fake_pms.state.count("/api/v1/webhooks/deliveries")
    status_before = fake_pms.state.count("/api/v1/guests/webhook/status")
    await wait_for(lambda: hub.poller.ticks >= ticks_before + 10, message="ten more ticks")
    ticks = hub.poller.ticks - ticks_before
    for delta in (
        fake_crm.state.count("/api/v1/events") - events_before,
        fake_pms.state.count("/api/v1/webhooks/deliveries") - deliveries_before,
        fake_pms.state.count("/api/v1/guests/webhook/status") - status_before,
    ):
        assert ticks - 1 <= delta <= ticks + 1  # one read per tick (one may be in flight), not one per client
    row = fake_pms.add_delivery()
    for ws in sockets:
        assert await next_message(ws, "delivery") == row
        ws.close()


async def raw_websocket(visitor: Visitor) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket that completes the handshake and then never reads (a dead or frozen browser)."""
    host, port = visitor.base_url.split("//")[1].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(
        (
            f"GET /ws/live HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {visitor.base_url}\r\n"
            f"Cookie: {visitor.cookie_header()}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readline()
    assert b" 101 " in status, status
    return reader, writer


@pytest.mark.gen_test(timeout=60)
async def test_a_dead_client_does_not_block_the_others(visitor, fake_pms, fake_crm, hub):
    await visitor.login()
    healthy = await visitor.websocket()
    _, dead_writer = await raw_websocket(visitor)
    await wait_for(lambda: len(hub.clients) == 2, message="both clients")
    await baseline_taken(hub)
    big = "x" * 100_000
    sent, received = [], []
    for batch in range(12):  # ten large events per tick: far more than the dead socket's buffers hold
        sent += [
            fake_crm.add_event("guest.updated", entity_id=batch * 10 + i, payload={"id": i, "notes": big})["id"]
            for i in range(10)
        ]
        while len(received) < len(sent):
            received.append((await next_message(healthy, "event", timeout=30))["id"])
    assert received == sent
    await wait_for(lambda: len(hub.clients) == 1, message="the dead client to be dropped")
    later = fake_crm.add_event("guest.created", entity_id=999)
    assert (await next_message(healthy, "event"))["id"] == later["id"]
    dead_writer.close()
    healthy.close()


@pytest.mark.gen_test
async def test_closing_every_socket_stops_the_poller(visitor, fake_pms, fake_crm, hub):
    await visitor.login()
    ws = await visitor.websocket()
    await wait_for(lambda: hub.running, message="the poller to start")
    ws.close()
    await wait_for(lambda: not hub.running, message="the poller to stop")
    await asyncio.sleep(0.05)  # a read the cancelled tick had already sent may still land
    polls = fake_crm.state.count("/api/v1/events")
    await asyncio.sleep(0.2)  # several poll intervals: nothing may be asked meanwhile
    assert fake_crm.state.count("/api/v1/events") == polls


@pytest.mark.gen_test(timeout=60)
async def test_a_guest_created_in_the_real_pms_reaches_the_client(pms_db, fake_crm, http_client):
    pms_server, pms_url = serve_app(make_pms_app(PmsSettings(), store=pms_db.store))
    settings = DashboardSettings(
        pms_url=pms_url, crm_url=fake_crm.url, token=TOKEN, poll_seconds=0.05, live_linger_seconds=0
    )
    dashboard = make_app(settings)
    dash_server, dash_url = serve_app(dashboard, host="localhost")
    try:
        visitor = Visitor(http_client, dash_url)
        await visitor.login()
        ws = await visitor.websocket()
        await baseline_taken(dashboard.settings["hub"])
        created = await call(
            http_client, pms_url, "POST", "/api/v1/guests", {"email": "live@example.com", "name": "<b>Live</b> Guest"}
        )
        assert created.code == 201, created.body
        guest = json_of(created)["data"]
        delivery = await next_message(ws, "delivery")
        assert delivery["type"] == "guest.created"
        assert delivery["entity_id"] == guest["id"]
        listed = json_of(await call(http_client, pms_url, "GET", "/api/v1/webhooks/deliveries"))["data"][0]
        assert delivery["id"] == listed["id"]
        ws.close()
    finally:
        close_app(dashboard)
        dash_server.stop()
        pms_server.stop()
