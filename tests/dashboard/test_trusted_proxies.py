"""The dashboard believes ``X-Forwarded-For``/``-Proto`` only from ``TRUSTED_PROXIES``.

The client address feeds the login throttle and the protocol decides whether cookies are
``Secure``; a forger talking to the dashboard directly must change neither.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from core.proxies import TrustedProxies

from .support import TOKEN


def session_cookie(visitor) -> str:
    return [c for c in visitor.last_set_cookies if c.startswith("gs_session=")][0].lower()


def access_addresses(caplog) -> list[str]:
    return [r.remote_ip for r in caplog.records if r.name == "guestsync.access"]


@pytest.mark.gen_test
async def test_forwarded_proto_from_an_untrusted_peer_does_not_make_cookies_secure(visitor):
    xsrf = await visitor.xsrf()
    response = await visitor.post("/login", {"token": TOKEN, "_xsrf": xsrf}, headers={"X-Forwarded-Proto": "https"})
    assert response.code == 302
    assert "secure" not in session_cookie(visitor)


@pytest.mark.gen_test
async def test_forwarded_for_from_an_untrusted_peer_does_not_change_the_client_address(visitor, caplog):
    caplog.set_level(logging.INFO, logger="guestsync.access")
    response = await visitor.post("/login", {"token": "wrong"}, headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.code == 401
    assert access_addresses(caplog)[-1] == "127.0.0.1"


class TestBehindATrustedProxy:
    @pytest.fixture
    def dashboard_settings(self, dashboard_settings):
        return replace(dashboard_settings, trusted_proxies=TrustedProxies.parse("127.0.0.0/8"))

    @pytest.mark.gen_test
    async def test_the_proxy_s_forwarded_proto_makes_cookies_secure(self, visitor):
        xsrf = await visitor.xsrf()
        response = await visitor.post("/login", {"token": TOKEN, "_xsrf": xsrf}, headers={"X-Forwarded-Proto": "https"})
        assert response.code == 302
        assert "secure" in session_cookie(visitor)

    @pytest.mark.gen_test
    async def test_plain_http_through_the_proxy_stays_not_secure(self, visitor):
        response = await visitor.login()
        assert response.code == 302
        assert "secure" not in session_cookie(visitor)

    @pytest.mark.gen_test
    async def test_the_proxy_s_forwarded_for_is_the_client_address(self, visitor, caplog):
        caplog.set_level(logging.INFO, logger="guestsync.access")
        response = await visitor.post("/login", {"token": "wrong"}, headers={"X-Forwarded-For": "203.0.113.9"})
        assert response.code == 401
        assert access_addresses(caplog)[-1] == "203.0.113.9"
