"""Writes sent by browser pages of other origins are refused (403) before they act.

A page anywhere on the web can make a visitor's browser POST to a PMS on the hotel's network
without a body and without a Content-Type (``fetch(url, {method: "POST", mode: "no-cors"})``),
which no media-type check can tell from a script's call; the browser always names the page's
origin, so the API refuses writes from origins that are neither its own nor allowed.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from core.cors import parse_allowed_origins
from pms_app.config import PmsSettings
from tests.pms_app.helpers import guest_body
from tests.support.http import call, json_of, raw_exchange

ALLOWED = "https://app.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture
def pms_settings() -> PmsSettings:
    return PmsSettings(cors_allowed_origins=parse_allowed_origins(ALLOWED))


def bodyless_post(base_url: str, path: str, origin: str | None) -> bytes:
    host = urlparse(base_url).netloc
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Length: 0", "Connection: close"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.gen_test
async def test_a_bodyless_cross_site_post_cannot_replay(http_client, base_url):
    status, _, body = await raw_exchange(base_url, bodyless_post(base_url, "/api/v1/webhooks/deliveries/replay", EVIL))
    assert status == 403, body
    assert b'"forbidden"' in body


@pytest.mark.gen_test
async def test_the_same_post_from_a_script_or_an_allowed_page_acts(http_client, base_url):
    for origin in (None, ALLOWED):
        request = bodyless_post(base_url, "/api/v1/webhooks/deliveries/replay", origin)
        status, _, body = await raw_exchange(base_url, request)
        assert status == 202, (origin, body)


@pytest.mark.gen_test
async def test_a_cross_site_json_write_creates_nothing(http_client, base_url):
    response = await call(http_client, base_url, "POST", "/api/v1/guests", guest_body(), headers={"Origin": EVIL})
    assert response.code == 403
    error = json_of(response)["error"]
    assert error["code"] == "forbidden" and error["request_id"] == response.headers["X-Request-ID"]
    listed = await call(http_client, base_url, "GET", "/api/v1/guests")
    assert json_of(listed)["data"] == []


@pytest.mark.parametrize("origin", ["null", "https://app.example.com.evil.net", "http://app.example.com"])
@pytest.mark.gen_test
async def test_lookalike_and_opaque_origins_are_refused(http_client, base_url, origin):
    response = await call(http_client, base_url, "PUT", "/api/v1/guests/1", {"name": "x"}, headers={"Origin": origin})
    assert response.code == 403


@pytest.mark.gen_test
async def test_own_origin_and_allowed_origin_may_write_and_anyone_may_read(http_client, base_url):
    own = "http://" + urlparse(base_url).netloc
    for origin in (own, ALLOWED):
        response = await call(http_client, base_url, "POST", "/api/v1/guests", guest_body(), headers={"Origin": origin})
        assert response.code == 201, (origin, response.body)
    # A read changes nothing, and without CORS headers the other page cannot see the answer.
    response = await call(http_client, base_url, "GET", "/api/v1/guests", headers={"Origin": EVIL})
    assert response.code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
