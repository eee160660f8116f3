"""Every page renders with data, says plainly when a service is down, and escapes what services send."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from .fakes import now_iso

HOSTILE = "<script>alert(1)</script>"


def seed(fake_pms, fake_crm) -> dict:
    delivered = fake_pms.add_delivery(
        "guest.created", "delivered", entity_id=7, created_at=now_iso(-130), delivered_at=now_iso(-128)
    )
    failed = fake_pms.add_delivery(
        "reservation.updated",
        "failed",
        entity_id=3,
        attempts=[
            {
                "attempt": 1,
                "started_at": now_iso(-60),
                "status_code": 503,
                "duration_ms": 12,
                "error": "CRM answered 503",
                "response_body": '{"error": "down"}',
            }
        ],
    )
    event = fake_crm.add_event("guest.created", entity_id=7, payload={"id": 7, "name": "Ann Example", "version": 1})
    fake_crm.add_event("reservation.created", entity_id=3, payload={"id": 3, "guest_id": 7, "version": 1})
    profile = fake_crm.add_profile(7, name="Ann Example", tier="returning", total=2)
    rejection = fake_crm.add_rejection("invalid_signature", webhook_id="wh-123")
    return {"delivered": delivered, "failed": failed, "event": event, "profile": profile, "rejection": rejection}


def pages(ids: dict) -> dict[str, tuple[str, ...]]:
    """Each page, and the services it reads."""
    return {
        "/": ("PMS", "CRM"),
        "/events": ("CRM",),
        f"/events/{ids['event']['id']}": ("CRM",),
        "/profiles": ("CRM",),
        "/profiles/7": ("CRM", "PMS"),  # the PMS: its failed or held deliveries for the guest
        "/deliveries": ("PMS",),
        f"/deliveries/{ids['failed']['id']}": ("PMS", "CRM"),  # the CRM event it produced
        "/rejections": ("CRM",),
    }


@pytest.mark.gen_test
async def test_every_page_renders_the_services_data(visitor, fake_pms, fake_crm):
    ids = seed(fake_pms, fake_crm)
    await visitor.login()
    expectations = {
        "/": ["CRM circuit breaker", "CRM outbox", "reservation.updated", "guest.created", "<svg", "Replay all failed"],
        "/events": ["guest.created", "reservation.created", "processed"],
        f"/events/{ids['event']['id']}": [ids["event"]["webhook_id"], "&#34;name&#34;: &#34;Ann Example&#34;"],
        "/profiles": ["Ann Example", "ann@example.com", "returning", "480.00 USD"],
        "/profiles/7": ["Ann Example", "returning", "reservation.created", "guest.created"],
        "/deliveries": [ids["failed"]["id"], "failed", "delivered"],
        f"/deliveries/{ids['failed']['id']}": ["CRM answered 503", "503", "Replay", ids["failed"]["id"]],
        "/rejections": ["invalid_signature", "10.0.0.7", "wh-123"],
    }
    for path, needles in expectations.items():
        response = await visitor.get(path)
        body = response.body.decode()
        assert response.code == 200, path
        assert "unavailable." not in body, path
        for needle in needles:
            assert needle in body, (path, needle)


@pytest.mark.parametrize("outage", ["pms", "crm"], indirect=True)
@pytest.mark.gen_test
async def test_every_page_says_which_service_is_down(visitor, fake_pms, fake_crm, outage):
    ids = seed(fake_pms, fake_crm)
    await visitor.login()
    down = outage.upper()
    for path, needs in pages(ids).items():
        response = await visitor.get(path)
        body = response.body.decode()
        assert response.code == 200, (path, body[:500])
        if down in needs:
            assert f'data-service="{down}"' in body, path
            assert f"{down} unavailable." in body, path
        else:
            assert "unavailable." not in body, path


@pytest.mark.gen_test
async def test_a_service_answering_500_is_reported_not_propagated(visitor, fake_pms, fake_crm):
    seed(fake_pms, fake_crm)
    fake_crm.state.failing = True
    await visitor.login()
    response = await visitor.get("/events")
    assert response.code == 200
    assert "CRM unavailable." in response.body.decode()
    assert "boom" in response.body.decode()  # the service's own message helps ops


@pytest.mark.gen_test
async def test_a_refused_api_token_is_reported_without_showing_it(visitor, fake_pms, fake_crm):
    fake_pms.state.token = "the-real-pms-token"
    await visitor.login()
    body = (await visitor.get("/deliveries")).body.decode()
    assert "PMS unavailable." in body and "token" in body
    assert "the-real-pms-token" not in body


@pytest.mark.gen_test
async def test_tokens_are_sent_as_bearer(visitor, fake_pms, fake_crm, app):
    from dashboard.clients import Services
    from dashboard.config import DashboardSettings

    fake_pms.state.token, fake_crm.state.token = "pms-secret", "crm-secret"
    settings = DashboardSettings(
        pms_url=fake_pms.url, crm_url=fake_crm.url, pms_api_token="pms-secret", crm_api_token="crm-secret"
    )
    services = Services.from_settings(settings)
    try:
        assert (await services.pms.status())["breaker"]["state"] == "closed"
        assert (await services.crm.events())["data"] == []
    finally:
        services.close()


@pytest.mark.gen_test
async def test_missing_things_render_not_found_pages(visitor, fake_pms, fake_crm):
    await visitor.login()
    for path, text in (
        ("/events/999", "No event #999"),
        ("/profiles/999", "No profile for guest #999"),
        ("/deliveries/no-such-id", "No delivery"),
    ):
        response = await visitor.get(path)
        assert response.code == 404, path
        assert text in response.body.decode(), path
    unknown = await visitor.get("/nowhere")
    assert unknown.code == 404 and "There is no such page." in unknown.body.decode()


@pytest.mark.gen_test
async def test_empty_lists_say_what_to_do(visitor, fake_pms, fake_crm):
    await visitor.login()
    assert "Create or change a guest in the PMS" in (await visitor.get("/deliveries")).body.decode()
    assert "The CRM has received no events yet" in (await visitor.get("/events")).body.decode()
    assert "No guest profiles yet" in (await visitor.get("/profiles")).body.decode()
    assert "No rejected webhooks" in (await visitor.get("/rejections")).body.decode()


@pytest.mark.gen_test
async def test_filters_are_passed_to_the_services_and_pages_link_older_rows(visitor, fake_pms, fake_crm):
    for i in range(60):
        fake_crm.add_event("guest.updated", entity_id=i)
    await visitor.login()
    response = await visitor.get("/events?type=guest.updated&status=processed")
    body = response.body.decode()
    method, path, query = fake_crm.state.requests[-1]
    assert path == "/api/v1/events"
    assert "type=guest.updated" in query and "status=processed" in query and "limit=50" in query
    assert 'rel="next"' in body
    older = html.unescape(body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
    assert older.startswith("/events?") and "cursor=" in older and "type=guest.updated" in older
    second = (await visitor.get(older)).body.decode()
    assert second.count('<tr data-id="') == 10
    assert 'data-live-list="event"' not in second  # an older page does not take live rows


@pytest.mark.gen_test
async def test_profile_search_and_tier_reach_the_crm(visitor, fake_pms, fake_crm):
    fake_crm.add_profile(1, name="Ann Example", email="ann@example.com", tier="vip")
    fake_crm.add_profile(2, name="Bob Other", email="bob@example.com", tier="new")
    await visitor.login()
    body = (await visitor.get("/profiles?q=ann&tier=vip")).body.decode()
    assert "Ann Example" in body and "Bob Other" not in body
    assert "q=ann" in fake_crm.state.requests[-1][2] and "tier=vip" in fake_crm.state.requests[-1][2]


@pytest.mark.gen_test
async def test_guest_strings_are_escaped_everywhere(visitor, fake_pms, fake_crm):
    fake_crm.add_profile(5, name=HOSTILE, email='x"><img src=x onerror=alert(2)>@example.com')
    event = fake_crm.add_event("guest.created", entity_id=5, payload={"id": 5, "name": HOSTILE})
    fake_crm.add_rejection(HOSTILE, webhook_id=HOSTILE)
    delivery = fake_pms.add_delivery(
        HOSTILE,
        "failed",
        payload={"name": HOSTILE},
        attempts=[
            {
                "attempt": 1,
                "started_at": now_iso(),
                "status_code": 500,
                "duration_ms": 3,
                "error": HOSTILE,
                "response_body": HOSTILE,
            }
        ],
    )
    await visitor.login()
    for path in (
        "/",
        "/profiles",
        "/profiles/5",
        f"/events/{event['id']}",
        "/rejections",
        "/deliveries",
        f"/deliveries/{delivery['id']}",
        "/profiles?q=" + HOSTILE,
    ):
        response = await visitor.get(path)
        body = response.body.decode()
        assert response.code == 200, path
        assert "<script>alert" not in body, path
        assert "<img src=x" not in body, path
    profile_page = (await visitor.get("/profiles/5")).body.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in profile_page


TRAVERSAL = "../../logout"


def resolved_paths(base_url: str, page: str, body: str) -> list[str]:
    """Where each link and form of the page leads (but the sign-out form's own), resolved the way
    a browser does, dots and encoded dots included."""
    paths = []
    for href in re.findall(r'(?:href|action)="([^"]+)"', body.replace('action="/logout"', "")):
        href = html.unescape(href)
        path = urlsplit(urljoin(base_url + page, href)).path
        # Browsers also read %2E as a dot: resolve those segments the same way.
        parts = []
        for part in path.split("/"):
            if unquote(part) == "..":
                parts = parts[:-1]
            elif unquote(part) != ".":
                parts.append(part)
        paths.append("/".join(parts) or "/")
    return paths


@pytest.mark.gen_test
async def test_links_built_from_service_ids_cannot_leave_their_page(visitor, fake_pms, fake_crm):
    fake_crm.add_rejection("invalid_signature", webhook_id=TRAVERSAL)
    fake_crm.add_rejection("invalid_signature", webhook_id="..")
    event = fake_crm.add_event("guest.created", entity_id=1)
    event["webhook_id"] = TRAVERSAL
    fake_pms.add_delivery(status="failed")["id"] = TRAVERSAL
    fake_crm.add_profile(5)["guest_id"] = TRAVERSAL
    await visitor.login()
    for page in ("/rejections", f"/events/{event['id']}", "/events", "/deliveries", "/profiles", "/"):
        body = (await visitor.get(page)).body.decode()
        assert "/logout" not in resolved_paths(visitor.base_url, page, body), page
    rejections = (await visitor.get("/rejections")).body.decode()
    assert 'href="/deliveries/..%2F..%2Flogout"' in rejections
    assert 'href="/deliveries/%252E%252E"' in rejections
    # following such a link is a harmless not-found, and the operator stays signed in
    for link in ("/deliveries/..%2F..%2Flogout", "/deliveries/%252E%252E"):
        assert (await visitor.get(link)).code == 404
    assert (await visitor.get("/")).code == 200


@pytest.mark.gen_test
async def test_static_assets_are_versioned_and_served(visitor, fake_pms, fake_crm):
    await visitor.login()
    body = (await visitor.get("/")).body.decode()
    assert "/static/dashboard.css?v=" in body and "/static/dashboard.js?v=" in body
    assert "http://" not in body.split("<body")[0].replace(visitor.base_url, "")  # nothing from a CDN
    css = await visitor.get("/static/dashboard.css")
    assert css.code == 200 and b"--good" in css.body


@pytest.mark.gen_test
async def test_the_token_never_appears_on_a_page(visitor, fake_pms, fake_crm):
    from .support import TOKEN

    seed(fake_pms, fake_crm)
    await visitor.login()
    for path in ("/", "/events", "/deliveries", "/login"):
        assert TOKEN not in (await visitor.get(path)).body.decode()


@pytest.mark.gen_test
async def test_overview_warns_about_a_recent_rejection(visitor, fake_pms, fake_crm):
    await visitor.login()
    assert "rejected a webhook" not in (await visitor.get("/")).body.decode()
    fake_crm.add_rejection("invalid_signature")
    body = (await visitor.get("/")).body.decode()
    assert "The CRM rejected a webhook" in body and "secrets probably differ" in body
    fake_crm.rejections[-1]["received_at"] = now_iso(-3600)
    assert "rejected a webhook" not in (await visitor.get("/")).body.decode()


@pytest.mark.gen_test
async def test_overview_shows_recent_breaker_changes_when_the_pms_keeps_them(visitor, fake_pms):
    await visitor.login()
    body = (await visitor.get("/")).body.decode()
    assert "Recent changes" not in body  # a PMS without the history route still renders
    fake_pms.transitions = [
        {"id": 1, "worker_id": "w", "from": "closed", "to": "open", "failure_count": 5, "at": now_iso(-120)},
        {"id": 2, "worker_id": "w", "from": "open", "to": "half_open", "failure_count": 5, "at": now_iso(-90)},
    ]
    response = await visitor.get("/")
    assert response.code == 200
    body = response.body.decode()
    assert "Recent changes" in body
    assert body.index('data-status="half_open"') < body.index('data-status="open"', body.index("Recent changes"))


ODD_VALUES = [
    "%00",
    "%ff",
    "%0d%0a",
    "-1",
    "99999999999999999999999",
    "%2F%2Fevil",
    "..%2F..",
    "%3Cscript%3E",
    "a" * 3000,
    "%E2%80%A8",
    "\\",
    "%5C",
]


@pytest.mark.gen_test(timeout=60)
async def test_no_query_value_makes_a_page_fail(visitor, fake_pms, fake_crm):
    ids = seed(fake_pms, fake_crm)
    await visitor.login()
    paths = [*pages(ids), "/audit", "/login"]
    for path in paths:
        for name in ("cursor", "type", "status", "q", "tier", "entity_id", "operator", "action", "next"):
            for value in ODD_VALUES:
                response = await visitor.get(f"{path}?{name}={value}")
                assert response.code < 500, (path, name, value, response.code)
    for value in ODD_VALUES:
        response = await visitor.get(f"/deliveries/{value}")
        assert response.code in (404, 200), value
