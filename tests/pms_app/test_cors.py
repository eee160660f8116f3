"""``CORS_ALLOWED_ORIGINS`` on the PMS API through the real app: preflights and answer headers."""

from __future__ import annotations

import pytest

from core.cors import parse_allowed_origins
from core.ratelimit import parse_rate_limit
from pms_app.config import PmsSettings
from tests.support.http import call, json_of
from tests.support.ratelimit import freeze_rate_limit_clock

TOKEN = "pms-cors-test-token"
ALLOWED = "https://app.example.com"
OTHER = "https://evil.example.net"


@pytest.fixture
def pms_settings() -> PmsSettings:
    return PmsSettings(
        api_token=TOKEN,
        api_rate_limit=parse_rate_limit("2/minute"),
        cors_allowed_origins=parse_allowed_origins(f"{ALLOWED}, http://localhost:3000"),
    )


def cors_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.get_all() if name.lower().startswith("access-control-")}


async def preflight(http_client, base_url, origin: str, path: str = "/api/v1/guests", method: str = "POST"):
    return await call(
        http_client,
        base_url,
        "OPTIONS",
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


@pytest.mark.gen_test
async def test_preflight_from_an_allowed_origin_is_204_with_the_cors_headers_and_needs_no_token(http_client, base_url):
    response = await preflight(http_client, base_url, ALLOWED)
    assert response.code == 204
    assert response.body == b""
    headers = cors_headers(response)
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    assert {"GET", "POST", "PUT", "DELETE"} <= {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")}
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-request-id", "x-operator"} <= allowed
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in headers
    assert response.headers["Vary"] == "Origin"


@pytest.mark.gen_test
async def test_preflight_from_another_origin_is_refused_without_cors_headers(http_client, base_url):
    response = await preflight(http_client, base_url, OTHER)
    assert response.code == 403
    assert json_of(response)["error"]["code"] == "forbidden"
    assert cors_headers(response) == {}


@pytest.mark.gen_test
async def test_preflights_are_not_rate_limited(app, http_client, base_url, monkeypatch):
    freeze_rate_limit_clock(monkeypatch, app)
    for _ in range(3):
        await call(http_client, base_url, "GET", "/api/v1/guests", headers={"Authorization": f"Bearer {TOKEN}"})
    for _ in range(5):
        response = await preflight(http_client, base_url, ALLOWED)
        assert response.code == 204
        assert "RateLimit-Remaining" not in response.headers


@pytest.mark.gen_test
async def test_answers_to_an_allowed_origin_carry_the_origin_and_expose_the_useful_headers(http_client, base_url):
    ok = await call(
        http_client, base_url, "GET", "/api/v1/guests", headers={"Origin": ALLOWED, "Authorization": f"Bearer {TOKEN}"}
    )
    assert ok.code == 200
    headers = cors_headers(ok)
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    exposed = {h.strip().lower() for h in headers["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"} <= exposed
    assert ok.headers["Vary"] == "Origin"


@pytest.mark.gen_test
async def test_error_answers_to_an_allowed_origin_carry_it_too(http_client, base_url):
    origin = {"Origin": "http://localhost:3000"}
    unauthorized = await call(http_client, base_url, "GET", "/api/v1/guests", headers=origin)
    missing = await call(http_client, base_url, "GET", "/api/v1/nowhere", headers=origin)
    limited = await call(http_client, base_url, "GET", "/api/v1/guests", headers=origin)
    assert [r.code for r in (unauthorized, missing, limited)] == [401, 404, 429]
    for response in (unauthorized, missing, limited):
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert "retry-after" in response.headers["Access-Control-Expose-Headers"].lower()


@pytest.mark.gen_test
async def test_answers_to_another_origin_carry_no_cors_headers(http_client, base_url):
    for headers in ({"Origin": OTHER}, {"Origin": "null"}, {"Origin": ALLOWED + ".evil.net"}, {}):
        response = await call(
            http_client, base_url, "GET", "/api/v1/guests/1", headers={**headers, "Authorization": f"Bearer {TOKEN}"}
        )
        assert response.code in (404, 429)  # an answer, success or error alike
        assert cors_headers(response) == {}, headers


@pytest.mark.gen_test
async def test_origins_match_whatever_the_case_of_scheme_and_host(http_client, base_url):
    sent = "HTTPS://App.Example.COM"
    response = await preflight(http_client, base_url, sent)
    assert response.code == 204
    assert response.headers["Access-Control-Allow-Origin"] == sent  # the browser compares it with what it sent
    # A different port or scheme is a different origin.
    for other in ("https://app.example.com:8443", "http://app.example.com"):
        assert (await preflight(http_client, base_url, other)).code == 403, other


class TestUnset:
    @pytest.fixture
    def pms_settings(self) -> PmsSettings:
        return PmsSettings()

    @pytest.mark.gen_test
    async def test_no_origin_is_allowed_and_no_cors_header_is_sent(self, http_client, base_url):
        refused = await preflight(http_client, base_url, ALLOWED)
        assert refused.code == 403
        answer = await call(http_client, base_url, "GET", "/api/v1/guests", headers={"Origin": ALLOWED})
        assert answer.code == 200
        assert cors_headers(answer) == {}
        assert "Vary" not in answer.headers
