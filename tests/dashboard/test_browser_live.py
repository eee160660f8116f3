"""The overview in a real headless Chromium, over the fake services: a breaker opening shows in
under 2 s at the default 1 s poll, a disabled endpoint pops a toast and turns its tile, the
chart grows and moves on without a reload. (The screenshots of every page are taken over the
real services, in test_screenshots.py.)
"""

from __future__ import annotations

import time

import pytest

from dashboard.config import DashboardSettings
from tests.support.receivers import wait_for

from .fakes import now_iso
from .support import TOKEN, served_dashboard
from .test_browser import CHROMIUM, LAUNCH_ARGS, pytestmark  # noqa: F401 - the same skip/mark rule

VIEWPORT = {"width": 1366, "height": 900}


async def sign_in(page, base_url: str) -> None:
    await page.goto(base_url + "/login")
    await page.fill("#password", TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)


@pytest.fixture
def one_second_dashboard(io_loop, fake_pms, fake_crm, tmp_path):
    """The dashboard at its default poll interval (1 s), on a name the browser treats as same-site."""
    with served_dashboard(
        DashboardSettings(
            pms_url=fake_pms.url,
            crm_url=fake_crm.url,
            token=TOKEN,
            poll_seconds=1.0,
            live_linger_seconds=0,
            users_file=tmp_path / "users.txt",
        )
    ) as served:
        yield served


@pytest.mark.gen_test(timeout=120)
async def test_a_breaker_opening_shows_in_under_two_seconds_and_a_disabled_endpoint_toasts(
    fake_pms, fake_crm, one_second_dashboard, tmp_path
):
    from playwright.async_api import async_playwright

    base_url = one_second_dashboard.url
    loyalty = fake_pms.add_endpoint(2, "loyalty")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport=VIEWPORT)
            await sign_in(page, base_url)
            await page.evaluate("window.__sameDocument = true")
            tile = page.locator('[data-endpoint-id="2"]')
            assert await tile.locator('[data-field="breaker"] .badge').inner_text() == "closed"
            # Changes count from the feed's first read (its baseline), which the page's socket started.
            await wait_for(lambda: one_second_dashboard.hub.poller.ticks >= 1, message="the feed's baseline")

            loyalty["breaker"].update(state="open", failure_count=5, opened_at=now_iso())
            fake_pms.breaker.update(state="open", failure_count=5, opened_at=now_iso())
            changed = time.monotonic()
            await tile.locator('[data-field="breaker"] .badge[data-status="open"]').wait_for(timeout=2_000)
            await page.locator('#breaker-badge .badge[data-status="open"]').wait_for(timeout=2_000)
            shown_after = time.monotonic() - changed
            assert shown_after < 2.0, shown_after
            assert "holding" in await page.locator("#breaker-help").inner_text()

            disabled = fake_pms.add_notification("endpoint.disabled", endpoint_id=2, data={"reason": "gone"})
            loyalty.update(enabled=False, disabled_reason="gone")
            loyalty["deliveries"]["held"] = 6
            toast = page.locator(f'#toasts .toast[data-notification-id="{disabled["id"]}"]')
            await toast.wait_for(timeout=3_000)
            text = await toast.inner_text()
            assert "Disabled: endpoint 2 (loyalty)" in text and "it answered 410 Gone" in text
            assert "toast-bad" in await toast.get_attribute("class")
            await page.locator('[data-endpoint-id="2"][data-enabled="false"]').wait_for(timeout=3_000)
            assert await tile.locator('[data-field="held"]').inner_text() == "6"
            assert await tile.locator('[data-field="disabled_reason"]').inner_text() == "it answered 410 Gone"
            listed = page.locator(f'[data-live-list="notification"] li[data-id="{disabled["id"]}"]')
            assert "endpoint.disabled" in await listed.inner_text()
            await page.screenshot(path=str(tmp_path / "disabled.png"))
            assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        finally:
            await browser.close()


@pytest.mark.gen_test(timeout=120)
async def test_the_chart_grows_and_moves_on_without_a_reload(fake_pms, fake_crm, hub, http_server, base_url, tmp_path):
    from playwright.async_api import async_playwright

    first = fake_pms.record_minute(59, delivered=2)
    now = fake_pms.record_minute(0, delivered=1, p50_ms=30, p95_ms=60)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport=VIEWPORT)
            await sign_in(page, base_url)
            await page.evaluate("window.__sameDocument = true")
            minutes = page.locator("#live-chart g.minute")
            assert await minutes.count() == 60
            bar = page.locator(f'#live-chart g.minute[data-at="{now}"] rect.bar')
            failed_bar = page.locator(f'#live-chart g.minute[data-at="{now}"] rect.bar-failed')
            height_before = float(await bar.get_attribute("height"))
            assert float(await failed_bar.get_attribute("height")) == 0
            # Changes count from the feed's first read (its baseline), which the page's socket started.
            await wait_for(lambda: hub.poller.ticks >= 1, message="the feed's baseline")

            fake_pms.record_minute(0, delivered=1, failed=4, p50_ms=30, p95_ms=9_000)
            await page.wait_for_function(
                """(at) => {
                     const r = document.querySelector('#live-chart g.minute[data-at="' + at + '"] rect.bar-failed');
                     return r && parseFloat(r.getAttribute('height')) > 0; }""",
                arg=now,
                timeout=5_000,
            )
            assert float(await bar.get_attribute("height")) < height_before  # the axis grew with the failures
            assert "4 failed" in await page.locator(f'#live-chart g.minute[data-at="{now}"] title').text_content()
            assert await page.locator("#live-chart polyline.p95").count() == 1

            fake_pms.clock_minutes = 1  # the next minute starts
            nxt = fake_pms.record_minute(0, delivered=5)
            await page.locator(f'#live-chart g.minute[data-at="{nxt}"]').wait_for(timeout=5_000)
            assert await minutes.count() == 60
            assert await page.locator(f'#live-chart g.minute[data-at="{first}"]').count() == 0  # the oldest left
            assert await minutes.last.get_attribute("data-at") == nxt
            assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
            await page.screenshot(path=str(tmp_path / "chart.png"))
        finally:
            await browser.close()


@pytest.mark.gen_test(timeout=120)
async def test_a_new_endpoint_a_reconciliation_run_and_the_hour_figures_arrive_in_place(
    fake_pms, fake_crm, hub, http_server, base_url
):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = await browser.new_page(viewport=VIEWPORT)
            await sign_in(page, base_url)
            await page.evaluate("window.__sameDocument = true")
            assert "No reconciliation has run yet" in await page.locator('[data-field="sync-run"]').inner_text()
            # Changes count from the feed's first read (its baseline), which the page's socket started.
            await wait_for(lambda: hub.poller.ticks >= 1, message="the feed's baseline")

            warehouse = fake_pms.add_endpoint(
                4,
                "warehouse",
                state="half_open",
                oldest_pending_at=now_iso(-125),
                success_rate=0.5,
                attempts=8,
                p95_ms=2500,
            )
            warehouse["deliveries"].update(pending=3, failed=1)
            fake_pms.add_sync_run(drifted=4, repaired=3, unrepairable=1, compared=999)
            fake_pms.record_minute(0, delivered=2, failed=7, p50_ms=15, p95_ms=700)
            tile = page.locator('[data-endpoint-id="4"]')
            await tile.wait_for(timeout=5_000)
            assert await tile.locator('[data-field="name"]').inner_text() == "warehouse"
            assert await tile.locator('[data-field="name"]').get_attribute("href") == "/endpoints/4"
            assert await tile.locator('[data-field="breaker"] .badge').get_attribute("data-status") == "half_open"
            assert await tile.locator('[data-field="pending"]').inner_text() == "3"
            assert await tile.locator('[data-field="failed"]').inner_text() == "1"
            assert await tile.locator('[data-field="success_rate"]').inner_text() == "50.0 %"
            assert await tile.locator('[data-field="p95_ms"]').inner_text() == "2.5 s"
            assert (await tile.locator("[data-age-since]").inner_text()).startswith("2 min")
            assert await tile.locator('[data-field="disabled"]').is_hidden()
            sync = page.locator('[data-field="sync-run"]')
            await sync.locator('[data-field="drifted"]').wait_for(timeout=5_000)
            assert await sync.locator('[data-field="drifted"]').inner_text() == "4"
            assert "999" in await sync.inner_text() and "completed" in await sync.inner_text()
            summary = page.locator('[data-live="overall"]')
            await page.wait_for_function(
                "() => document.querySelector('[data-live=\"overall\"] [data-field=\"failed\"]').textContent === '7'",
                timeout=5_000,
            )
            assert await summary.locator('[data-field="p95_ms"]').inner_text() == "700 ms"
            fake_pms.endpoints.remove(warehouse)
            await tile.wait_for(state="detached", timeout=5_000)
            assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
        finally:
            await browser.close()
