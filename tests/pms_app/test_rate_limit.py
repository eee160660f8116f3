"""``API_RATE_LIMIT`` on the PMS API through the real app, with a fake clock (never sleeps).

Limit 3 per minute. The client is the valid API token when one is sent, else the address
(resolved behind the trusted proxy 127.0.0.1, so X-Forwarded-For stands for other clients).
"""

from __future__ import annotations

import pytest

from core.proxies import TrustedProxies
from core.ratelimit import parse_rate_limit
from pms_app.config import PmsSettings
from tests.support.http import call, json_of
from tests.support.ratelimit import freeze_rate_limit_clock

TOKEN = "pms-rate-limit-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def pms_settings() -> PmsSettings:
    return PmsSettings(
        api_token=TOKEN,
        api_rate_limit=parse_rate_limit("3/minute"),
        trusted_proxies=TrustedProxies.parse("127.0.0.1/32"),
    )


@pytest.fixture
def clock(app, monkeypatch):
    return freeze_rate_limit_clock(monkeypatch, app)


def limit_headers(response) -> tuple[str | None, str | None, str | None]:
    return tuple(response.headers.get(f"RateLimit-{name}") for name in ("Limit", "Remaining", "Reset"))


async def get(http_client, base_url, path="/api/v1/guests", headers=None):
    return await call(http_client, base_url, "GET", path, headers=headers)


@pytest.mark.gen_test
async def test_headers_count_down_and_the_next_request_is_429_until_the_window_frees(http_client, base_url, clock):
    seen = []
    for _ in range(3):
        response = await get(http_client, base_url, headers=AUTH)
        assert response.code == 200, response.body
        seen.append(limit_headers(response))
        clock.advance(20)
    clock.advance(-20)
    # Moving window: the first request (at 0 s) leaves the 60 s window just after 60 s.
    assert seen == [("3", "2", "61"), ("3", "1", "41"), ("3", "0", "21")]

    refused = await get(http_client, base_url, headers=AUTH)
    assert refused.code == 429
    assert json_of(refused)["error"]["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "21"
    assert limit_headers(refused) == ("3", "0", "21")

    # Just inside the window (not on its edge: the storage's own expiry thread reads the same
    # clock and may drop an entry that is exactly as old as the window before the check runs).
    clock.advance(19)
    assert (await get(http_client, base_url, headers=AUTH)).code == 429
    clock.advance(2)  # now past the Retry-After given above
    freed = await get(http_client, base_url, headers=AUTH)
    assert freed.code == 200
    assert limit_headers(freed) == ("3", "0", "20")  # the requests at 20 s and 40 s still count


@pytest.mark.gen_test
async def test_refused_requests_do_not_use_up_the_allowance(http_client, base_url, clock):
    for _ in range(3):
        assert (await get(http_client, base_url, headers=AUTH)).code == 200
    for _ in range(5):
        assert (await get(http_client, base_url, headers=AUTH)).code == 429
    clock.advance(61)
    for remaining in ("2", "1", "0"):
        response = await get(http_client, base_url, headers=AUTH)
        assert (response.code, response.headers["RateLimit-Remaining"]) == (200, remaining)


@pytest.mark.gen_test
async def test_the_token_and_the_address_are_counted_apart(http_client, base_url, clock):
    for _ in range(3):
        assert (await get(http_client, base_url, headers=AUTH)).code == 200
    assert (await get(http_client, base_url, headers=AUTH)).code == 429
    # The same address without the token has its own allowance (and is told 401, not 429).
    anonymous = await get(http_client, base_url)
    assert (anonymous.code, anonymous.headers["RateLimit-Remaining"]) == (401, "2")


@pytest.mark.gen_test
async def test_wrong_tokens_count_against_the_address_so_guessing_is_limited(http_client, base_url, clock):
    for attempt in range(3):
        response = await get(http_client, base_url, headers={"Authorization": f"Bearer guess-{attempt}"})
        assert response.code == 401
        assert response.headers["RateLimit-Remaining"] == str(2 - attempt)
    guessed = await get(http_client, base_url, headers={"Authorization": "Bearer guess-4"})
    assert guessed.code == 429
    assert json_of(guessed)["error"]["code"] == "rate_limited"
    # The holder of the real token is not locked out by someone guessing from the same address.
    assert (await get(http_client, base_url, headers=AUTH)).code == 200


@pytest.mark.gen_test
async def test_two_addresses_are_counted_apart(http_client, base_url, clock):
    first = {"X-Forwarded-For": "198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.2"}
    for _ in range(3):
        assert (await get(http_client, base_url, headers=first)).code == 401
    assert (await get(http_client, base_url, headers=first)).code == 429
    other = await get(http_client, base_url, headers=second)
    assert (other.code, other.headers["RateLimit-Remaining"]) == (401, "2")


@pytest.mark.gen_test
async def test_ipv6_clients_are_counted_by_their_64_block(http_client, base_url, clock):
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"):
        assert (await get(http_client, base_url, headers={"X-Forwarded-For": host})).code == 401
    same_block = await get(http_client, base_url, headers={"X-Forwarded-For": "2001:db8:1:2::4"})
    other_block = await get(http_client, base_url, headers={"X-Forwarded-For": "2001:db8:1:3::1"})
    assert (same_block.code, other_block.code) == (429, 401)


@pytest.mark.gen_test
async def test_errors_carry_the_headers_too(http_client, base_url, clock):
    not_found = await get(http_client, base_url, "/api/v1/guests/999", headers=AUTH)
    invalid = await call(http_client, base_url, "POST", "/api/v1/guests", body={"email": "x"}, headers=AUTH)
    unknown = await get(http_client, base_url, "/api/v1/nowhere", headers=AUTH)
    assert [(r.code, r.headers.get("RateLimit-Remaining")) for r in (not_found, invalid, unknown)] == [
        (404, "2"),
        (422, "1"),
        (404, "0"),
    ]
    assert {r.headers.get("RateLimit-Limit") for r in (not_found, invalid, unknown)} == {"3"}


@pytest.mark.gen_test
async def test_health_readiness_and_metrics_are_never_limited(http_client, base_url, clock):
    for _ in range(4):
        await get(http_client, base_url, headers=AUTH)
    for _ in range(5):
        for path in ("/api/v1/health", "/api/v1/ready", "/metrics"):
            response = await get(http_client, base_url, path)
            assert response.code == 200, path
            assert limit_headers(response) == (None, None, None), path


@pytest.mark.gen_test
async def test_the_token_is_not_kept_by_the_limiter(app, http_client, base_url, clock):
    assert (await get(http_client, base_url, headers=AUTH)).code == 200
    keys = list(app.settings["rate_limiter"].strategy.storage.events)
    assert len(keys) == 1
    assert TOKEN not in keys[0]


class TestWithoutTrustedProxies:
    @pytest.fixture
    def pms_settings(self) -> PmsSettings:
        return PmsSettings(api_rate_limit=parse_rate_limit("2/second"))

    @pytest.mark.gen_test
    async def test_a_forged_forwarded_address_does_not_get_a_fresh_allowance(self, http_client, base_url, clock):
        for _ in range(2):
            assert (await get(http_client, base_url)).code == 200
        forged = await get(http_client, base_url, headers={"X-Forwarded-For": "203.0.113.50"})
        assert forged.code == 429
        assert forged.headers["Retry-After"] == "2"  # free once more than 1 s has passed: 2 whole seconds


class TestUnset:
    @pytest.fixture
    def pms_settings(self) -> PmsSettings:
        return PmsSettings()

    @pytest.mark.gen_test
    async def test_no_limit_and_no_headers(self, app, http_client, base_url):
        assert app.settings["rate_limiter"] is None
        for _ in range(20):
            response = await get(http_client, base_url)
            assert response.code == 200
            assert limit_headers(response) == (None, None, None)
