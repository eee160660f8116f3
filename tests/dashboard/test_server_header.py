"""No dashboard answer names the server's version: pages, redirects, errors, static files and
the websocket upgrade (the header would only help an attacker choose an exploit)."""

from __future__ import annotations

import pytest
import tornado


def assert_no_version(headers, what: str) -> None:
    server = headers.get("Server", "")
    assert "Tornado" not in server and tornado.version not in server, (what, server)


@pytest.mark.gen_test
async def test_no_dashboard_answer_names_the_server_version(visitor, fake_pms, fake_crm, hub):
    answers = {
        "login redirect": await visitor.get("/"),
        "login page": await visitor.get("/login"),
        "static file": await visitor.get("/static/dashboard.css"),
        "missing static file": await visitor.get("/static/nothing.css"),
        "xsrf refusal": await visitor.post("/logout", {}, with_xsrf=False),
    }
    await visitor.login()
    answers["page"] = await visitor.get("/rejections")
    answers["404 page"] = await visitor.get("/nothing-here")
    assert {r.code for r in answers.values()} >= {200, 302, 403, 404}
    for what, response in answers.items():
        assert_no_version(response.headers, what)
    ws = await visitor.websocket()
    try:
        assert_no_version(ws.headers, "websocket upgrade")
    finally:
        ws.close()
