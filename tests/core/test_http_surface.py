"""The HTTP surface both APIs share, through the real applications on every backend: cursors,
media types, security headers, the error shape, the Server header and the in-flight count."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlparse

import pytest
import tornado

import core.health
from core.contract import MAX_ID
from core.pagination import encode_cursor
from tests.crm_app.webhook_factory import envelope, guest, signed_request
from tests.support.http import call, json_of, raw_exchange
from tests.support.services import API, SERVICES, list_routes

JSON = {"Content-Type": "application/json"}


async def _list_routes(http_client, base_url, app) -> list[str]:
    """The routes of the app that answer a GET with a page (``next_cursor``)."""
    found = []
    for path in list_routes(app):
        response = await call(http_client, base_url, "GET", path)
        if response.code == 200 and "next_cursor" in (json_of(response) or {}):
            found.append(path)
    return found


@pytest.mark.gen_test
async def test_a_cursor_past_64_bits_is_a_422_on_every_list_route(http_client, base_url, app):
    routes = await _list_routes(http_client, base_url, app)
    assert len(routes) >= 3, routes
    for path in routes:
        for forged in (encode_cursor(MAX_ID + 1, False), encode_cursor(10**30, True), encode_cursor(2**64, False)):
            response = await call(http_client, base_url, "GET", f"{path}?cursor={forged}")
            assert response.code == 422, (path, response.body)
            error = json_of(response)["error"]
            assert error["code"] == "validation_error"
            assert [d["field"] for d in error["details"]] == ["cursor"]
        # The largest id that can exist is still a cursor the API could have issued.
        response = await call(http_client, base_url, "GET", f"{path}?cursor={encode_cursor(MAX_ID, False)}")
        assert response.code == 200, (path, response.body)


async def _add_a_row(http_client, base_url, api_service) -> None:
    """A guest (PMS) or an audit-log event and a profile (CRM), so lists are not empty."""
    if api_service.name == "pms":
        response = await call(
            http_client, base_url, "POST", f"{API}/guests", {"email": "row@example.com", "name": "Row"}
        )
    else:
        webhook_id, body = envelope("guest.created", guest(7))
        raw = json.dumps(body).encode()
        response = await call(
            http_client, base_url, "POST", f"{API}/webhooks/pms", raw=raw, headers=signed_request(raw, webhook_id)
        )
    assert response.code in (201, 202), response.body


@pytest.mark.gen_test
async def test_integer_filters_past_64_bits_match_nothing(http_client, base_url, app, api_service):
    await _add_a_row(http_client, base_url, api_service)
    routes = await _list_routes(http_client, base_url, app)
    filters = {"pms": ("since_id", "guest_id"), "crm": ("since_id", "guest_id", "entity_id")}
    for path in routes:
        for name in filters[api_service.name]:
            for huge in (MAX_ID + 1, 10**30, "9" * 5000):
                response = await call(http_client, base_url, "GET", f"{path}?{name}={huge}")
                assert response.code == 200, (path, name, response.body[:200])
                if name == "since_id":
                    assert json_of(response)["data"] == [], (path, name)
    # A filter a list does read matches nothing rather than failing.
    filtered = (
        f"{API}/reservations?guest_id={10**30}" if api_service.name == "pms" else f"{API}/events?entity_id={10**30}"
    )
    response = await call(http_client, base_url, "GET", filtered)
    assert response.code == 200 and json_of(response)["data"] == []


def _answers(api_service):
    """(method, path, body, headers) of answers of every kind: success, errors, unknown routes."""
    return [
        ("GET", f"{API}/health", None, {}),
        ("GET", "/metrics", None, {}),
        ("POST", "/metrics", None, {}),  # 405 outside the base path
        ("GET", f"{API}/nothing-here", None, {}),  # unknown route
        ("GET", "/", None, {}),
        ("DELETE", f"{API}/health", None, {}),  # 405
        (
            "GET",
            f"{API}/events/{'9' * 30}" if api_service.name == "crm" else f"{API}/guests/{'9' * 30}",
            None,
            {},
        ),  # 404 from the service
        ("GET", f"{api_service.list_route}?limit=-1", None, {}),  # 422
        ("POST", api_service.json_route, b"{nope", JSON),  # 400 invalid_json (or 400 header)
        ("POST", api_service.json_route, b"a=1", {"Content-Type": "text/plain"}),  # 415
        ("POST", api_service.json_route, b"{" + b" " * (2 * 1024 * 1024) + b"}", JSON),  # 413
    ]


async def _send(http_client, base_url, method, path, body, headers):
    return await call(http_client, base_url, method, path, raw=body, headers=headers)


@pytest.mark.gen_test
async def test_every_answer_carries_the_api_security_headers(http_client, base_url, api_service):
    for method, path, body, headers in _answers(api_service):
        response = await _send(http_client, base_url, method, path, body, headers)
        assert response.headers.get("X-Content-Type-Options") == "nosniff", (method, path, response.code)
        assert response.headers.get("Cache-Control") == "no-store", (method, path, response.code)


@pytest.mark.gen_test
async def test_no_answer_names_the_server_version(http_client, base_url, api_service):
    for method, path, body, headers in _answers(api_service):
        response = await _send(http_client, base_url, method, path, body, headers)
        server = response.headers.get("Server", "")
        assert "Tornado" not in server and tornado.version not in server, (method, path, server)


@pytest.mark.gen_test
async def test_every_error_body_carries_the_request_id(http_client, base_url, api_service):
    seen = set()
    for method, path, body, headers in _answers(api_service):
        response = await _send(http_client, base_url, method, path, body, headers)
        if response.code < 400:
            continue
        seen.add(response.code)
        error = json_of(response)["error"]
        assert set(error) == {"code", "message", "details", "request_id"}, (method, path, error)
        assert error["request_id"] == response.headers["X-Request-ID"]
    assert {400, 404, 405, 413, 415} <= seen
    # The caller's own request id is the one in the body.
    response = await call(http_client, base_url, "GET", f"{API}/nothing", headers={"X-Request-ID": "req-7"})
    assert json_of(response)["error"]["request_id"] == "req-7"


@pytest.mark.gen_test
async def test_a_500_has_the_headers_and_the_request_id(http_client, base_url, monkeypatch):
    async def boom(_store):
        raise RuntimeError("broken")

    monkeypatch.setattr(core.health, "database_answers", boom)
    response = await call(http_client, base_url, "GET", f"{API}/health")
    assert response.code == 500
    assert json_of(response)["error"]["request_id"] == response.headers["X-Request-ID"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.gen_test
async def test_a_refused_token_has_the_request_id(http_client, base_url, app, api_service):
    app.settings["api_token"] = "s3cret"
    response = await call(http_client, base_url, "GET", api_service.list_route)
    assert response.code == 401
    assert json_of(response)["error"]["request_id"] == response.headers["X-Request-ID"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"],
)
@pytest.mark.gen_test
async def test_a_body_not_declared_json_is_415(http_server, base_url, api_service, content_type):
    body = b'{"email": "a@b.co", "name": "A"}'
    declared = "" if content_type is None else f"Content-Type: {content_type}\r\n"
    for method, path in api_service.writes:
        # Sent byte for byte: HTTP clients add a form Content-Type to a POST that has none.
        status, _, answer = await raw_exchange(
            base_url,
            (
                f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{declared}"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body,
        )
        assert status == 415, (method, path, answer)
        assert json.loads(answer)["error"]["code"] == "unsupported_media_type"


@pytest.mark.gen_test
async def test_a_cross_site_form_post_without_a_body_cannot_act(http_client, base_url):
    # What an empty <form method=post> sends: a form type and no body.
    response = await call(
        http_client,
        base_url,
        "POST",
        f"{API}/webhooks/deliveries/replay",
        raw=b"",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if response.code == 404:  # the CRM has no such route
        return
    assert response.code == 415


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"],
)
@pytest.mark.gen_test
async def test_json_media_types_are_accepted(http_client, base_url, api_service, content_type):
    response = await call(
        http_client, base_url, "POST", api_service.json_route, raw=b"{}", headers={"Content-Type": content_type}
    )
    assert response.code in (400, 422), response.body  # past the media type: missing fields/headers
    assert json_of(response)["error"]["code"] != "unsupported_media_type"


@pytest.mark.parametrize("api_service", [SERVICES["pms"]], ids=["pms"])  # the POST without a body
@pytest.mark.parametrize("length", ["", "Content-Length: 0\r\n"])
@pytest.mark.gen_test
async def test_a_post_without_a_body_needs_no_content_type(http_server, base_url, api_service, length):
    status, _, answer = await raw_exchange(
        base_url,
        (f"POST {API}/webhooks/deliveries/replay HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{length}\r\n").encode(),
    )
    assert status == 202, answer
    assert json.loads(answer) == {"data": {"replayed": 0}}


@pytest.mark.gen_test
async def test_a_read_that_names_a_type_but_sends_nothing_is_answered(http_client, base_url, api_service):
    for path in (api_service.list_route, "/metrics", f"{API}/health"):
        response = await call(http_client, base_url, "GET", path, headers={"Content-Type": "text/plain"})
        assert response.code == 200, (path, response.body)
    response = await call(
        http_client, base_url, "GET", api_service.list_route, raw=b"a=1", headers={"Content-Type": "text/plain"}
    )
    assert response.code == 415  # a body, though, must be JSON on any method


@pytest.mark.gen_test
async def test_a_form_post_to_a_route_without_post_is_405(http_client, base_url, api_service):
    response = await call(
        http_client,
        base_url,
        "POST",
        api_service.list_route,
        raw=b"a=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.code == 405
    assert json_of(response)["error"]["code"] == "method_not_allowed"


# --- the in-flight count -------------------------------------------------------------------


async def _wait_for(predicate, what: str, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def _head(path: str, port: int, extra: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n{extra}\r\n").encode()


@pytest.mark.parametrize("case", ["hang_up", "bad_chunk", "too_large"])
@pytest.mark.gen_test(timeout=30)
async def test_a_request_cut_short_mid_body_is_no_longer_in_flight(http_client, base_url, app, api_service, case):
    in_flight = app.settings["in_flight"]
    port = urlparse(base_url).port
    path = api_service.json_route
    limit = (
        app.settings["config"].webhook_max_body_bytes if api_service.name == "crm" else app.settings["max_body_bytes"]
    )
    for _ in range(2):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            extra = "Content-Length: 1000\r\n" if case == "hang_up" else "Transfer-Encoding: chunked\r\n"
            writer.write(_head(path, port, extra))
            await writer.drain()
            await _wait_for(lambda: in_flight.count == 1, "the request to be in flight")
            if case == "hang_up":
                writer.write(b'{"name": "')
                await writer.drain()
                writer.close()
            elif case == "bad_chunk":
                writer.write(b"zz\r\nnot a chunk\r\n")
                await writer.drain()
                assert (await reader.read()).startswith(b"HTTP/1.1 400")
            else:
                chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
                try:
                    for _ in range(limit // (64 * 1024) + 4):
                        writer.write(chunk)
                        await writer.drain()
                    await reader.read()
                except ConnectionError:
                    pass  # the server cut the connection off: what this case is about
        finally:
            writer.close()
        await _wait_for(lambda: in_flight.count == 0, "the in-flight count to return to 0")
    # And a normal request after them is counted and released as usual.
    response = await call(http_client, base_url, "GET", f"{API}/health")
    assert response.code == 200
    assert in_flight.count == 0


@pytest.mark.parametrize("length", ["9" * 5000, "9" * 30])
@pytest.mark.gen_test
async def test_a_content_length_of_thousands_of_digits_is_413(http_server, base_url, api_service, length):
    # Python refuses to convert more than 4300 digits to an int: that was a 500.
    status, headers, answer = await raw_exchange(
        base_url,
        (
            f"POST {api_service.json_route} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{}}"
        ).encode(),
    )
    assert status == 413, answer
    assert json.loads(answer)["error"]["code"] == "payload_too_large"


@pytest.mark.gen_test
async def test_made_up_methods_do_not_grow_the_metrics(http_client, base_url, api_service):
    # Each distinct label value is a new time series kept for the life of the process.
    for n in range(3):
        status, _, _ = await raw_exchange(
            base_url, f"BREW{n} {API}/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        assert status == 405
    metrics = (await call(http_client, base_url, "GET", "/metrics")).body.decode()
    assert "BREW" not in metrics
    assert 'method="other"' in metrics
