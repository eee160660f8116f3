"""A screenshot of every dashboard page at 1366x900, over the real PMS, CRM and delivery worker
after a realistic hour (``hour.live_an_hour``): each page must answer 200 and log no error in
the browser console.

Screenshots go to the test's ``tmp_path``; with ``UPDATE_SCREENSHOTS=1`` they replace the ones
under docs/screenshots/ that the documentation shows (from the SQLite run only, so the two
backends do not write the same files in turn).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboard.config import DashboardSettings

from .hour import BREAKER_THRESHOLD, live_an_hour
from .stack import start_stack
from .support import TOKEN, Visitor, add_operator, served_dashboard
from .test_browser import CHROMIUM, LAUNCH_ARGS, pytestmark  # noqa: F401 - the same skip/mark rule

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}
PASSWORD = "a long enough password"

# Every page of the dashboard, by file name. Ids in braces are fields of ``Hour``. The bulk
# replay preview is the answer to a form, so it is taken after its button is clicked.
SCREENSHOT_PAGES = (
    ("overview", "/"),
    ("endpoints", "/endpoints"),
    ("endpoint", "/endpoints/{loyalty}"),
    ("endpoint-new", "/endpoints/new"),
    ("deliveries", "/deliveries?status=failed"),
    ("delivery", "/deliveries/{replayed}"),
    ("events", "/events"),
    ("event", "/events/{crm_event}"),
    ("profiles", "/profiles"),
    ("profile", "/profiles/{warned}"),
    ("rejections", "/rejections"),
    ("notifications", "/notifications"),
    ("audit", "/audit"),
)
# What each page must show (some visible element of each selector), so a screenshot of an empty
# or wrong page fails the test.
SHOWS = {
    "overview": [
        '[data-endpoint-id="{loyalty}"]',
        '[data-field="sync-run"] [data-field="drifted"]',
        "#live-chart rect.bar-failed",
        '[data-live-list="notification"] li',
    ],
    "endpoints": ['#endpoints tr[data-id="{analytics}"]', 'a[href="/deliveries?endpoint=1&status=failed"]'],
    "endpoint": ["#transitions tr"],
    "endpoint-new": ['form[action="/endpoints/new"]'],
    "deliveries": ["#deliveries tr[data-id]"],
    "delivery": ['[data-field="replayed_by"]'],
    "events": ["table.rows tbody tr"],
    "event": ["pre"],
    "profiles": ["table.rows tbody tr"],
    "profile": ["#undelivered"],
    "rejections": ["#rejection-groups tr"],
    "notifications": ["#notifications tr[data-id]"],
    "audit": ["table.rows tbody tr"],
}

SOME_VISIBLE = "s => [...document.querySelectorAll(s)].some(e => e.getBoundingClientRect().height > 0)"


@pytest.fixture
def stack(io_loop, pms_db, crm_db):
    # the breaker the worker of ``live_an_hour`` uses, so the endpoint page tells the same
    running = start_stack(pms_db.store, crm_db.store, breaker_failure_threshold=BREAKER_THRESHOLD)
    yield running
    running.stop()


@pytest.fixture
def dash_url(stack, tmp_path):
    users = tmp_path / "users.txt"
    for name in ("alice", "bob"):
        add_operator(users, name, PASSWORD)
    with served_dashboard(
        DashboardSettings(
            pms_url=stack.pms_url,
            crm_url=stack.crm_url,
            token=TOKEN,
            poll_seconds=1.0,
            live_linger_seconds=0,
            users_file=users,
        )
    ) as served:
        yield served.url


@pytest.mark.gen_test(timeout=240)
async def test_a_screenshot_of_every_page(stack, dash_url, http_client, backend, tmp_path):
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    alice, bob = Visitor(http_client, dash_url), Visitor(http_client, dash_url)
    assert (await alice.sign_in("alice", PASSWORD)).code == 302
    assert (await bob.sign_in("bob", PASSWORD)).code == 302
    hour = await live_an_hour(stack, http_client, alice, bob)
    values = vars(hour)
    update = os.environ.get("UPDATE_SCREENSHOTS") == "1" and backend == "sqlite"
    target = DOCS_SCREENSHOTS if update else tmp_path / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    taken = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = await (await browser.new_context(viewport=VIEWPORT)).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))

            async def shoot(name: str) -> None:
                await page.screenshot(path=str(target / f"{name}.png"), full_page=True)
                taken.append(name)

            response = await page.goto(dash_url + "/login")
            assert response.status == 200
            await page.fill("#username", "alice")
            await page.fill("#password", PASSWORD)
            await shoot("login")
            await page.click("button[type=submit]")
            await page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
            for name, path in SCREENSHOT_PAGES:
                response = await page.goto(dash_url + path.format(**values))
                assert response.status == 200, (path, response.status)
                await page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
                for selector in SHOWS[name]:
                    try:
                        await page.wait_for_function(SOME_VISIBLE, arg=selector.format(**values), timeout=10_000)
                    except PlaywrightTimeout:
                        raise AssertionError(f"{path} shows no {selector}") from None
                await shoot(name)

            await page.goto(dash_url + "/deliveries?status=failed")
            async with page.expect_response(lambda r: r.url.endswith("/deliveries/replay-failed")) as answer:
                await page.click("text=Replay all failed")
            assert (await answer.value).status == 200
            await page.wait_for_selector("[data-failed-count]")
            assert await page.locator("[data-failed-count]").get_attribute("data-failed-count") == "2"
            await shoot("replay-preview")
            assert errors == [], errors
        finally:
            await browser.close()
    assert [a[:2] for a in stack.audit()] == [
        ("bob", "endpoint.create"),
        ("bob", "endpoint.create"),
        ("bob", "endpoint.rotate_secret"),
        ("alice", "delivery.replay"),
    ], "the preview acted"
    assert sorted(taken) == sorted(["login", "replay-preview", *(name for name, _ in SCREENSHOT_PAGES)])
    sizes = {p.stem: p.stat().st_size for p in target.glob("*.png")}
    assert min(sizes[name] for name in taken) > 10_000, sizes
