"""Every dashboard answer carries the CSP and refuses framing: pages, error pages, redirects,
assets and the websocket handshake; odd asset names are a 404, never a 500."""

from __future__ import annotations

import pytest
from tornado.httpclient import HTTPClientError

from dashboard.handlers.rejections import RejectionsHandler

from .support import TOKEN


def assert_protected(response, what: str, cacheable: bool = False) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what
    if not cacheable:
        assert headers.get("Cache-Control") == "no-store", what


@pytest.mark.gen_test
async def test_pages_send_protective_headers(visitor, fake_pms, fake_crm):
    await visitor.login()
    response = await visitor.get("/")
    assert_protected(response, "overview")
    assert response.headers["X-Request-ID"]


@pytest.mark.gen_test
async def test_error_pages_and_redirects_are_protected_too(visitor, fake_pms, fake_crm):
    answers = {
        "redirect to login": (await visitor.get("/"), 302),
        "login page": (await visitor.get("/login"), 200),
        "404 signed out": (await visitor.get("/nowhere"), 404),
        "XSRF 403": (await visitor.post("/login", {"token": TOKEN}, with_xsrf=False), 403),
        "wrong token": (await visitor.login("wrong"), 401),
        "login redirect": (await visitor.login(), 302),
        "404 signed in": (await visitor.get("/nowhere"), 404),
        "405": (await visitor.get("/logout"), 405),
        "405 other method": (
            await visitor.http.fetch(
                visitor.base_url + "/", method="OPTIONS", raise_error=False, headers={"Cookie": visitor.cookie_header()}
            ),
            405,
        ),
        "detail 404": (await visitor.get("/events/999"), 404),
        "logout redirect": (await visitor.logout(), 302),
    }
    for what, (response, status) in answers.items():
        assert response.code == status, what
        assert_protected(response, what)
    signed_in_404 = answers["404 signed in"][0].body.decode()
    assert "There is no such page." in signed_in_404 and 'action="/logout"' in signed_in_404


@pytest.mark.gen_test
async def test_a_500_page_is_protected_and_tells_nothing(visitor, fake_pms, fake_crm, monkeypatch):
    async def broken(self):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(RejectionsHandler, "get", broken)
    await visitor.login()
    response = await visitor.get("/rejections")
    assert response.code == 500
    assert_protected(response, "500")
    body = response.body.decode()
    assert "secret detail" not in body and response.headers["X-Request-ID"] in body


@pytest.mark.gen_test
async def test_an_asset_name_with_a_nul_byte_is_not_found(visitor):
    for path in ("/static/favicon.svg%00.png", "/static/dashboard.css%00", "/static/%00"):
        assert (await visitor.get(path)).code == 404, path


@pytest.mark.gen_test
async def test_static_assets_are_protected_and_odd_names_are_not_found(visitor):
    css = await visitor.get("/static/dashboard.css")
    assert css.code == 200
    assert_protected(css, "asset", cacheable=True)
    for path in (
        "/static/favicon.svg%00.png",
        "/static/dashboard.css%00",
        "/static/%00",
        "/static/x%0A.css",
        "/static/..%5Cdashboard.css",
        "/static/no-such-file.css",
    ):
        response = await visitor.get(path)
        assert response.code == 404, path
        assert_protected(response, path, cacheable=True)
    outside = await visitor.get("/static/%2E%2E/README.md")
    assert outside.code == 403
    assert_protected(outside, "outside the folder", cacheable=True)


@pytest.mark.gen_test
async def test_the_websocket_handshake_is_protected(visitor, fake_pms, fake_crm):
    with pytest.raises(HTTPClientError) as refused:
        await visitor.websocket()
    assert refused.value.code == 401
    assert_protected(refused.value.response, "websocket refused")
