"""A real headless Chromium: log in, watch the overview, see a new guest's change arrive live;
the return path after sign-in cannot leave the site, and signing out really ends the session.

The PMS and CRM are the real applications on the test databases, with a real delivery worker
between them; the dashboard is the real app. Screenshots go to the test's ``tmp_path``.
Skipped only when Chromium is absent and ``CI`` is unset (in CI it must run).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from urllib.parse import quote, urlsplit

import pytest

from crm_app.app import make_app as make_crm_app
from crm_app.config import CrmSettings
from dashboard.app import close_app, make_app as make_dashboard_app
from dashboard.config import DashboardSettings
from pms_app.app import make_app as make_pms_app
from pms_app.delivery.worker import DeliveryWorker
from tests.support.delivery import FAST, SECRET, delivery_settings
from tests.support.http import call, json_of

from .support import TOKEN, serve_app

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]

if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
    pytestmark = pytest.mark.skip(reason="Chromium is not installed (set CHROMIUM_PATH); CI always runs this")
else:
    pytestmark = pytest.mark.browser

HOSTILE = "<script>alert(1)</script>"
FAILED = "Sign-in failed: the user name or password is not right."


@pytest.mark.gen_test(timeout=180)
async def test_a_new_guest_appears_on_the_open_overview_without_a_reload(pms_db, crm_db, http_client, tmp_path):
    from playwright.async_api import async_playwright

    crm_server, crm_url = serve_app(make_crm_app(CrmSettings(webhook_secrets=(SECRET,)), store=crm_db.store))
    pms_settings = delivery_settings(crm_url + "/api/v1/webhooks/pms")
    pms_server, pms_url = serve_app(make_pms_app(pms_settings, store=pms_db.store))
    worker = DeliveryWorker(pms_settings, pms_db.store, timing=FAST).start()
    dashboard = make_dashboard_app(
        DashboardSettings(
            pms_url=pms_url,
            crm_url=crm_url,
            token=TOKEN,
            poll_seconds=0.2,
            live_linger_seconds=0,
            users_file=tmp_path / "users.txt",
        )
    )
    dash_server, dash_url = serve_app(dashboard, host="localhost")
    dialogs: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1000})
                page.on(
                    "dialog", lambda dialog: (dialogs.append(dialog.message), asyncio.ensure_future(dialog.dismiss()))
                )

                await page.goto(dash_url + "/")
                assert "/login" in page.url
                await page.fill("#password", "not-the-token")
                await page.click("button[type=submit]")
                assert await page.locator(".form-error").inner_text() == FAILED
                await page.fill("#password", TOKEN)
                await page.click("button[type=submit]")
                await page.wait_for_url(dash_url + "/")
                await page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
                await page.evaluate("window.__sameDocument = true")

                created = await call(
                    http_client,
                    pms_url,
                    "POST",
                    "/api/v1/guests",
                    {"email": "ann.live@example.com", "name": HOSTILE, "country": "NL"},
                )
                assert created.code == 201, created.body
                guest_id = json_of(created)["data"]["id"]

                delivery_row = page.locator('tbody[data-live-list="delivery"] tr', has_text="guest.created")
                await delivery_row.first.wait_for(timeout=15_000)
                assert str(guest_id) in await delivery_row.first.inner_text()
                event_row = page.locator('tbody[data-live-list="event"] tr', has_text="guest.created")
                await event_row.first.wait_for(timeout=15_000)
                delivered = 'tbody[data-live-list="delivery"] tr .badge[data-status="delivered"]'
                await page.locator(delivered).first.wait_for(timeout=15_000)
                assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
                # local time shown, UTC on hover
                title = await page.locator('tbody[data-live-list="event"] time').first.get_attribute("title")
                assert title.endswith(" UTC")
                await page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

                await page.goto(dash_url + f"/profiles/{guest_id}")
                heading = await page.locator("h1").first.inner_text()
                assert HOSTILE in heading  # shown as text, not run
                await page.screenshot(path=str(tmp_path / "profile.png"), full_page=True)

                await page.goto(dash_url + "/deliveries")
                await page.click("tbody[data-delivery-list] tr a")
                await page.click("text=Replay")
                await page.wait_for_selector(".flash-good")
                await page.screenshot(path=str(tmp_path / "delivery.png"), full_page=True)
            finally:
                await browser.close()
        assert dialogs == [], "a script from guest data ran"
        assert (tmp_path / "overview.png").stat().st_size > 10_000
    finally:
        close_app(dashboard)
        dash_server.stop()
        await asyncio.get_running_loop().run_in_executor(None, worker.stop)
        pms_server.stop()
        crm_server.stop()


@pytest.mark.gen_test(timeout=120)
async def test_the_breaker_opening_shows_at_once_and_the_chart_is_drawn(
    fake_pms, fake_crm, http_server, base_url, tmp_path
):
    from playwright.async_api import async_playwright

    from .fakes import now_iso

    for minute in range(0, 60, 3):
        for i in range(minute % 7 + 1):
            fake_pms.add_delivery(
                "guest.updated",
                "delivered",
                entity_id=minute * 10 + i,
                created_at=now_iso(-minute * 60 - 2 - i * 3),
                delivered_at=now_iso(-minute * 60),
            )
    fake_pms.add_delivery("reservation.created", "failed", entity_id=77)
    fake_crm.add_event("guest.updated", entity_id=5)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await page.goto(base_url + "/login")
            await page.fill("#password", TOKEN)
            await page.click("button[type=submit]")
            await page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
            assert await page.locator("svg.chart rect.bar").count() == 60
            assert await page.locator("#breaker-badge .badge").inner_text() == "closed"
            failed_before = int(await page.locator('[data-count="failed"]').inner_text())

            fake_pms.breaker.update(state="open", failure_count=5, opened_at=now_iso())
            row = fake_pms.add_delivery("guest.deleted", "failed", entity_id=78)
            await page.wait_for_selector('#breaker-badge .badge[data-status="open"]', timeout=10_000)
            assert "holding" in await page.locator("#breaker-help").inner_text()
            await page.locator(f'tbody[data-live-list="delivery"] tr[data-id="{row["id"]}"]').wait_for(timeout=10_000)
            assert int(await page.locator('[data-count="failed"]').inner_text()) == failed_before + 1
            await page.screenshot(path=str(tmp_path / "breaker-open.png"), full_page=True)

            await page.goto(base_url + "/events?type=guest.created")
            await page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
            fake_crm.add_event("guest.updated", entity_id=6)
            wanted = fake_crm.add_event("guest.created", entity_id=7)
            await page.locator(f'tbody[data-live-list="event"] tr[data-id="{wanted["id"]}"]').wait_for(timeout=10_000)
            assert await page.locator('tbody[data-live-list="event"] tr', has_text="guest.updated").count() == 0
            await page.screenshot(path=str(tmp_path / "events.png"), full_page=True)
        finally:
            await browser.close()


@pytest.mark.gen_test(timeout=120)
async def test_sign_in_stays_on_this_site_and_a_signed_out_cookie_opens_nothing(
    fake_pms, fake_crm, http_server, base_url, tmp_path
):
    from playwright.async_api import async_playwright

    origin = urlsplit(base_url).netloc
    hostile = [
        quote(value, safe="")
        for value in (
            "/\t/evil.example",
            "//evil.example",
            "/\\evil.example",
            "https:evil.example",
            "/%2F%2Fevil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
        )
    ]
    hostile.append("/%09/evil.example")  # as an attacker's link spells it: the tab arrives decoded
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            elsewhere: list[str] = []
            context.on(
                "request", lambda request: urlsplit(request.url).netloc != origin and elsewhere.append(request.url)
            )

            for raw in hostile:
                await page.goto(base_url + "/login?next=" + raw)
                await page.fill("#password", TOKEN)
                await page.click("button[type=submit]")
                await page.wait_for_load_state()
                assert urlsplit(page.url).netloc == origin and urlsplit(page.url).path == "/", (raw, page.url)
                # signed in, the login page forwards at once: the same rule applies
                await page.goto(base_url + "/login?next=" + raw)
                assert urlsplit(page.url).netloc == origin and urlsplit(page.url).path == "/", (raw, page.url)
                await page.click("text=Sign out")
                await page.wait_for_url(base_url + "/login")
            assert elsewhere == [], "the browser was sent to another site"

            await page.fill("#password", TOKEN)
            await page.click("button[type=submit]")
            await page.wait_for_url(base_url + "/")
            watcher = await context.new_page()  # a second tab with the live feed open
            await watcher.goto(base_url + "/deliveries")
            await watcher.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
            stolen = [c for c in await context.cookies() if c["name"] == "gs_session"]
            assert len(stolen) == 1 and stolen[0]["httpOnly"] and stolen[0]["sameSite"] == "Lax"

            await page.click("text=Sign out")
            await page.wait_for_url(base_url + "/login")
            # the other tab's feed is closed by the server and the tab lands on the login page
            await watcher.wait_for_url(lambda url: urlsplit(url).path == "/login", timeout=15_000)

            await context.add_cookies(stolen)  # the old cookie, presented again
            await page.goto(base_url + "/deliveries")
            assert urlsplit(page.url).path == "/login"
            assert await page.locator("#password").count() == 1
            assert await page.locator("[data-operator]").count() == 0
            await page.screenshot(path=str(tmp_path / "signed-out.png"), full_page=True)
        finally:
            await browser.close()


# Stands in for the browser's Notification API so the test can see what the page asks for and
# shows: permission starts undecided and becomes "granted" when the page asks.
NOTIFICATION_STUB = """
window.__asked = 0;
window.__desktop = [];
function FakeNotification(title, options) { window.__desktop.push({ title: title, tag: options && options.tag }); }
FakeNotification.permission = "default";
FakeNotification.requestPermission = function () {
  window.__asked += 1;
  FakeNotification.permission = "granted";
  return Promise.resolve("granted");
};
window.Notification = FakeNotification;
"""


@pytest.mark.gen_test(timeout=120)
async def test_a_notification_is_a_toast_on_every_open_page_and_a_desktop_one_once_allowed(
    fake_pms, fake_crm, http_server, base_url, tmp_path
):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            await context.add_init_script(NOTIFICATION_STUB)
            page = await context.new_page()
            dialogs: list[str] = []
            context.on(
                "dialog", lambda dialog: (dialogs.append(dialog.message), asyncio.ensure_future(dialog.dismiss()))
            )
            await page.goto(base_url + "/login")
            await page.fill("#password", TOKEN)
            await page.click("button[type=submit]")
            await page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
            other = await context.new_page()
            await other.goto(base_url + "/deliveries")
            await other.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
            button = page.locator("#notify-permission")
            assert await button.is_visible()
            assert await page.evaluate("window.__asked") == 0, "permission was asked on load"

            failing = fake_pms.add_notification("endpoint.failing", endpoint_id=3, data={"failure_count": 5})
            for tab in (page, other):
                toast = tab.locator(f'#toasts .toast[data-notification-id="{failing["id"]}"]')
                await toast.wait_for(timeout=10_000)
                assert "Failing: endpoint 3" in await toast.inner_text()
                assert "5 failures in a row" in await toast.inner_text()
            assert await page.evaluate("window.__desktop") == []  # not allowed yet

            await button.click()
            await button.wait_for(state="hidden", timeout=5_000)
            assert await page.evaluate("window.__asked") == 1
            failed = fake_pms.add_notification(
                "delivery.failed",
                endpoint_id=1,
                data={
                    "event_id": "0d9c2f7e-1111-4222-8333-444455556666",
                    "type": "guest.updated",
                    "last_error": HOSTILE,
                    "last_status_code": 500,
                },
            )
            toast = page.locator(f'#toasts .toast[data-notification-id="{failed["id"]}"]')
            await toast.wait_for(timeout=10_000)
            assert HOSTILE in await toast.inner_text()  # shown as text, not run
            assert await page.evaluate("window.__desktop") == [
                {
                    "title": "Guestsync: Delivery failed for good: endpoint 1 (crm)",
                    "tag": f"guestsync-notification-{failed['id']}",
                }
            ]
            await page.screenshot(path=str(tmp_path / "toasts.png"))
            await toast.locator(".toast-close").click()
            await toast.wait_for(state="detached", timeout=5_000)
            assert await page.locator("#toasts .toast").count() == 1
            assert dialogs == [], "a script from notification data ran"
        finally:
            await browser.close()
