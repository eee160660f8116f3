"""A real headless Chromium on the triage pages, over the real PMS and CRM: a Replay from a row
of the deliveries list (and that row kept current by the live feed meanwhile), and a bulk replay
previewed, then confirmed. Screenshots go to the test's ``tmp_path``. Skipped only when Chromium
is absent and ``CI`` is unset (in CI it must run)."""

from __future__ import annotations

import os
import shutil

import pytest

from core.db import utcnow
from dashboard.config import DashboardSettings

from .support import TOKEN, served_dashboard

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


@pytest.fixture
def dash_url(stack, tmp_path):
    with served_dashboard(
        DashboardSettings(
            pms_url=stack.pms_url,
            crm_url=stack.crm_url,
            token=TOKEN,
            poll_seconds=0.2,
            live_linger_seconds=0,
            users_file=tmp_path / "users.txt",
        )
    ) as served:
        yield served.url


async def signed_in_page(browser, dash_url):
    page = await browser.new_page(viewport={"width": 1366, "height": 900})
    await page.goto(dash_url + "/login")
    await page.fill("#password", TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_url(dash_url + "/")
    return page


@pytest.mark.gen_test(timeout=120)
async def test_a_row_replay_from_the_deliveries_list(stack, dash_url, tmp_path):
    from playwright.async_api import async_playwright

    failed = stack.event(entity_id=1)
    stack.fail(failed, attempts=3, code=503, error="CRM answered 503")
    moving = stack.event(entity_id=2)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = await signed_in_page(browser, dash_url)
            await page.goto(dash_url + "/deliveries")
            await page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
            await page.evaluate("window.__sameDocument = true")
            row = page.locator(f'#deliveries tr[data-id="{failed}"]')
            assert "503" in await row.locator('[data-field="last_error"]').inner_text()
            assert await row.locator('[data-field="attempt_count"]').inner_text() == "3"

            # the feed keeps a shown row current in place; its Replay button stays
            stack.set_delivery(moving, status="delivered", delivered_at=utcnow(), attempt_count=1, last_status_code=202)
            other = page.locator(f'#deliveries tr[data-id="{moving}"]')
            await other.locator('[data-field="status"] .badge[data-status="delivered"]').wait_for(timeout=10_000)
            assert await other.locator('[data-field="attempt_count"]').inner_text() == "1"
            assert await other.locator(f'button[data-replay="{moving}"]').count() == 1
            assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"

            await row.locator(f'button[data-replay="{failed}"]').click()
            await page.wait_for_selector(".flash-good", timeout=10_000)
            assert "Queued again" in await page.locator(".flash-good").inner_text()
            assert page.url == dash_url + "/deliveries"
            replayed = stack.delivery(failed)
            assert (replayed.status, replayed.next_trigger, replayed.replayed_by) == ("pending", "replay", "ops")
            assert (
                await page.locator(f'#deliveries tr[data-id="{failed}"] [data-field="status"] .badge').inner_text()
                == "pending"
            )
            await page.screenshot(path=str(tmp_path / "deliveries.png"), full_page=True)
        finally:
            await browser.close()
    assert [a[:3] for a in stack.audit()] == [("ops", "delivery.replay", failed)]
    assert (tmp_path / "deliveries.png").stat().st_size > 10_000


@pytest.mark.gen_test(timeout=120)
async def test_bulk_replay_previews_then_acts_once_confirmed(stack, dash_url, tmp_path):
    from playwright.async_api import async_playwright

    failed = [stack.event(entity_id=n) for n in (1, 2, 3)]
    for event_id in failed:
        stack.fail(event_id)
    delivered = stack.event(entity_id=4)
    stack.set_delivery(delivered, status="delivered", delivered_at=utcnow())
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = await signed_in_page(browser, dash_url)
            await page.goto(dash_url + "/deliveries")
            await page.click("text=Replay all failed")
            await page.wait_for_selector("[data-failed-count]")
            assert await page.locator("[data-failed-count]").get_attribute("data-failed-count") == "3"
            assert await page.locator("h1").inner_text() == "Replay all failed deliveries?"
            shown = await page.locator("table.rows tbody tr[data-id]").evaluate_all(
                "rows => rows.map(r => r.getAttribute('data-id'))"
            )
            assert sorted(shown) == sorted(failed)
            assert stack.audit() == [] and {stack.delivery(e).status for e in failed} == {"failed"}, "the preview acted"
            await page.screenshot(path=str(tmp_path / "replay-preview.png"), full_page=True)

            await page.click("#confirm-replay button[type=submit]")
            await page.wait_for_selector(".flash-good", timeout=10_000)
            assert await page.locator(".flash-good").inner_text() == "Queued again: 3 failed deliveries."
            assert page.url == dash_url + "/deliveries"
        finally:
            await browser.close()
    assert {(stack.delivery(e).status, stack.delivery(e).replayed_by) for e in failed} == {("pending", "ops")}
    assert stack.delivery(delivered).status == "delivered"
    assert [(a[0], a[1], a[3]["replayed"]) for a in stack.audit()] == [("ops", "deliveries.replay_failed", 3)]
