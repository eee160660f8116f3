"""The CRM's HTTP surface behind proxies and browsers: whose address is listed, what is limited.

A forged ``X-Forwarded-For`` must never choose the address shown in the rejections list;
only a trusted proxy's does. The webhook receiver is never rate limited; the read API is.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.cors import parse_allowed_origins
from core.proxies import TrustedProxies
from core.ratelimit import parse_rate_limit
from tests.support.http import call, json_of
from tests.support.ratelimit import freeze_rate_limit_clock

REJECTIONS = "/api/v1/webhooks/rejections"
FORGED = {
    "Content-Type": "application/json",
    "webhook-id": "msg_forged",
    "webhook-timestamp": "1",
    "webhook-signature": "v1,AAAA",
}


async def listed_addresses(http_client, base_url) -> list[str]:
    response = await call(http_client, base_url, "GET", REJECTIONS)
    assert response.code == 200, response.body
    return [row["remote_ip"] for row in json_of(response)["data"]]


@pytest.mark.gen_test
async def test_a_forged_forwarded_for_from_an_untrusted_peer_does_not_choose_the_listed_address(
    sender, http_client, base_url
):
    response = await sender.post_raw(b"{}", {**FORGED, "X-Forwarded-For": "203.0.113.66", "X-Real-IP": "203.0.113.67"})
    assert response.code == 401
    assert await listed_addresses(http_client, base_url) == ["127.0.0.1"]


class TestBehindATrustedProxy:
    @pytest.fixture
    def crm_settings(self, crm_settings):
        return replace(crm_settings, trusted_proxies=TrustedProxies.parse("127.0.0.1/32, 10.0.0.0/8"))

    @pytest.mark.gen_test
    async def test_the_proxy_s_forwarded_for_names_the_client(self, sender, http_client, base_url):
        # The client, then an inner proxy (trusted), then us: the right-most untrusted hop is the client.
        assert (await sender.post_raw(b"{}", {**FORGED, "X-Forwarded-For": "198.51.100.4, 10.1.2.3"})).code == 401
        # Whatever a client wrote itself before the proxy appended the real address is ignored.
        assert (await sender.post_raw(b"{}", {**FORGED, "X-Forwarded-For": "1.1.1.1, 198.51.100.5"})).code == 401
        assert await listed_addresses(http_client, base_url) == ["198.51.100.5", "198.51.100.4"]


class TestRateLimit:
    @pytest.fixture
    def crm_settings(self, crm_settings):
        return replace(crm_settings, api_rate_limit=parse_rate_limit("2/minute"))

    @pytest.mark.gen_test
    async def test_the_webhook_receiver_is_never_limited_but_the_read_api_is(
        self, app, sender, http_client, base_url, monkeypatch
    ):
        freeze_rate_limit_clock(monkeypatch, app)
        for guest_id in range(1, 6):
            response = await sender.send(
                "guest.created",
                {
                    "id": guest_id,
                    "email": f"g{guest_id}@example.com",
                    "name": "G",
                    "version": 1,
                    "created_at": "2026-01-01T10:00:00.000Z",
                    "updated_at": "2026-01-01T10:00:00.000Z",
                },
            )
            assert response.code == 202, response.body
            assert "RateLimit-Limit" not in response.headers
        rejected = await sender.post_raw(b"{}", FORGED)
        assert rejected.code == 401 and "RateLimit-Limit" not in rejected.headers
        codes = [(await call(http_client, base_url, "GET", "/api/v1/events")).code for _ in range(3)]
        assert codes == [200, 200, 429]
        health = await call(http_client, base_url, "GET", "/api/v1/health")
        assert health.code == 200 and "RateLimit-Limit" not in health.headers


class TestCors:
    @pytest.fixture
    def crm_settings(self, crm_settings):
        return replace(crm_settings, cors_allowed_origins=parse_allowed_origins("https://ops.example.org"))

    @pytest.mark.gen_test
    async def test_an_allowed_origin_may_read_the_rejections_list(self, http_client, base_url):
        origin = {"Origin": "https://ops.example.org"}
        pre = await call(
            http_client, base_url, "OPTIONS", REJECTIONS, headers={**origin, "Access-Control-Request-Method": "GET"}
        )
        assert pre.code == 204
        assert pre.headers["Access-Control-Allow-Origin"] == "https://ops.example.org"
        answer = await call(http_client, base_url, "GET", REJECTIONS, headers=origin)
        assert answer.code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == "https://ops.example.org"
        other = await call(http_client, base_url, "GET", REJECTIONS, headers={"Origin": "https://x.example"})
        assert other.code == 200 and "Access-Control-Allow-Origin" not in other.headers
