"""The overview as the server renders it (no script needed): endpoint tiles, the last hour's
figures, the chart with failures, the last reconciliation run, recent notifications, and the
vocabulary handed to the browser."""

from __future__ import annotations

import html
import json
import re

import pytest

from dashboard.contract import for_browser

from .fakes import now_iso, populate

HOSTILE = "<script>alert(1)</script>"


def attribute(body: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', body)
    assert match, name
    return html.unescape(match.group(1))


@pytest.mark.gen_test
async def test_the_overview_shows_every_endpoint_the_hour_reconciliation_and_notifications(visitor, fake_pms, fake_crm):
    populate(fake_pms, fake_crm)
    await visitor.login()
    response = await visitor.get("/")
    assert response.code == 200
    body = response.body.decode()
    tiles = re.findall(r'<article class="tile" data-endpoint-id="(\d+)" data-enabled="(\w+)">', body)
    assert tiles == [("1", "true"), ("2", "true"), ("3", "false")]
    loyalty = body[body.index('data-endpoint-id="2"') : body.index('data-endpoint-id="3"')]
    assert 'data-status="open"' in loyalty and ">37</dd>" in loyalty and "41.2 %" in loyalty
    assert "1.8 s" in loyalty and "10 s" in loyalty and 'data-age-since="' in loyalty
    assert "21 min" in loyalty  # its oldest waiting delivery
    analytics = body[body.index('data-endpoint-id="3"') :]
    assert "it answered 410 Gone" in analytics and ">18</dd>" in analytics
    summary = body[body.index('data-live="overall"') : body.index('class="tiles-section"')]
    assert "21 min" in summary and "84.2 %" in summary and ">90<" in summary  # failed attempts
    chart = json.loads(attribute(body, "data-chart"))
    assert chart["layout"]["width"] == 1100 and len(chart["points"]) == 60
    assert sum(p["failed"] for p in chart["points"]) == 90
    assert body.count('<rect class="bar-failed"') == 60 and 'class="latency-line p95"' in body
    sync = body[body.index('data-live="sync-run"') : body.index('aria-labelledby="notices-title"')]
    assert "completed" in sync and "4821" in sync and 'class="drift">2<' in sync
    notices = body[body.index('data-live-list="notification"') :]
    assert [t for t in re.findall(r'data-type="([a-z.]+)"', notices)][:4] == [
        "sync.drift",
        "delivery.failed",
        "endpoint.disabled",
        "endpoint.failing",
    ]
    assert "reason: gone" in notices
    assert json.loads(attribute(body, "data-contract")) == for_browser()
    assert '<template id="endpoint-tile-template">' in body
    # one read of every endpoint's activity
    assert [p for m, p, q in fake_pms.state.requests if p.startswith("/api/v1/endpoints")] == [
        "/api/v1/endpoints/activity"
    ]


@pytest.mark.gen_test
async def test_an_idle_hotel_says_so(visitor, fake_pms, fake_crm):
    await visitor.login()
    body = (await visitor.get("/")).body.decode()
    assert "Nothing was attempted in the last hour" in body
    assert "No reconciliation has run yet" in body
    assert "Nothing to report" in body
    assert re.findall(r'data-endpoint-id="(\d+)"', body)[0] == "1"


@pytest.mark.gen_test
async def test_a_pms_without_health_runs_or_notifications_still_gives_the_rest(visitor, fake_pms, fake_crm):
    fake_pms.activity_route = False
    fake_pms.sync_runs = None
    fake_pms.notifications = None
    fake_pms.add_delivery("guest.created", "failed", entity_id=4)
    await visitor.login()
    response = await visitor.get("/")
    body = response.body.decode()
    assert response.code == 200 and "unavailable." not in body
    assert "The PMS lists no reconciliation runs." in body and "The PMS keeps no notifications." in body
    assert "does not report its endpoints' health" in body and "No data: the PMS" not in body
    assert "CRM circuit breaker" in body and "Replay all failed" in body
    assert "data-endpoint-id" not in body.replace('data-endpoint-id=""', "")


@pytest.mark.gen_test
async def test_endpoint_and_notification_strings_are_shown_as_text(visitor, fake_pms, fake_crm):
    fake_pms.add_endpoint(2, HOSTILE, enabled=False, disabled_reason=HOSTILE)
    fake_pms.add_notification("endpoint.disabled", endpoint_id=2, data={"reason": HOSTILE})
    fake_pms.add_sync_run(kind=HOSTILE, status=HOSTILE)
    fake_pms.breaker["state"] = HOSTILE
    await visitor.login()
    body = (await visitor.get("/")).body.decode()
    assert HOSTILE not in body
    assert html.escape(HOSTILE, quote=False) in body or "&lt;script&gt;" in body


@pytest.mark.gen_test
async def test_an_outage_of_the_pms_is_one_banner_not_an_error(visitor, fake_pms, fake_crm):
    fake_pms.add_endpoint(2, "loyalty", oldest_pending_at=now_iso(-60))
    fake_pms.state.failing = True
    await visitor.login()
    response = await visitor.get("/")
    body = response.body.decode()
    assert response.code == 200
    assert body.count('data-service="PMS"') == 1 and 'data-endpoint-id="2"' not in body
