"""Login, session cookie flags, logout, throttling and XSRF on the dashboard's forms."""

from __future__ import annotations

import pytest

from dashboard.session import LoginThrottle, safe_next

from .support import TOKEN


@pytest.mark.gen_test
async def test_pages_redirect_to_login_when_not_logged_in(visitor):
    for path in ("/", "/events", "/events/1", "/profiles", "/profiles/1", "/deliveries",
                 "/deliveries/abc", "/rejections"):
        response = await visitor.get(path)
        assert response.code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


@pytest.mark.gen_test
async def test_login_page_has_one_token_field_and_xsrf(visitor):
    response = await visitor.get("/login")
    body = response.body.decode()
    assert response.code == 200
    assert 'name="token"' in body and 'type="password"' in body
    assert 'name="_xsrf"' in body


@pytest.mark.gen_test
async def test_good_token_sets_a_signed_httponly_lax_cookie_and_opens_the_pages(visitor, fake_pms, fake_crm):
    response = await visitor.login()
    assert response.code == 302
    assert response.headers["Location"] == "/"
    session = [c for c in visitor.last_set_cookies if c.startswith("gs_session=")]
    assert len(session) == 1
    flags = session[0].lower()
    assert "httponly" in flags and "samesite=lax" in flags
    assert "secure" not in flags  # plain HTTP here; Secure is set when served over HTTPS
    assert TOKEN not in session[0]
    page = await visitor.get("/")
    assert page.code == 200
    assert b"Overview" in page.body


@pytest.mark.gen_test
async def test_wrong_token_is_refused_without_detail(visitor):
    response = await visitor.login("test-dashboard-tokeX")
    assert response.code == 401
    body = response.body.decode()
    assert "That token was not accepted." in body
    assert "gs_session" not in visitor.cookies
    again = await visitor.get("/")
    assert again.code == 302
    shorter = await visitor.login("t")
    assert shorter.body.decode().count("not accepted") == body.count("not accepted")


@pytest.mark.gen_test
async def test_repeated_failures_are_throttled_even_for_the_right_token(visitor):
    for _ in range(5):
        assert (await visitor.login("wrong")).code == 401
    locked = await visitor.login()
    assert locked.code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "gs_session" not in visitor.cookies


@pytest.mark.gen_test
async def test_forged_cookie_is_not_a_session(visitor):
    visitor.cookies["gs_session"] = "ops"
    assert (await visitor.get("/")).code == 302


@pytest.mark.gen_test
async def test_logout_ends_the_session(visitor, fake_pms, fake_crm):
    await visitor.login()
    assert (await visitor.get("/")).code == 200
    response = await visitor.post("/logout", {"_xsrf": await visitor.xsrf("/")})
    assert response.code == 302 and response.headers["Location"] == "/login"
    assert (await visitor.get("/")).code == 302


@pytest.mark.gen_test
async def test_login_returns_to_the_page_asked_for_but_never_elsewhere(visitor):
    xsrf = await visitor.xsrf()
    response = await visitor.post("/login", {"token": TOKEN, "_xsrf": xsrf, "next": "/events?type=guest.created"})
    assert response.headers["Location"] == "/events?type=guest.created"
    other = await visitor.post("/login", {"token": TOKEN, "_xsrf": xsrf, "next": "//evil.example/"})
    assert other.headers["Location"] == "/"


@pytest.mark.gen_test
async def test_posts_without_xsrf_are_refused(visitor, fake_pms):
    await visitor.login()
    row = fake_pms.add_delivery(status="failed")
    for path in ("/login", "/logout", f"/deliveries/{row['id']}/replay", "/deliveries/replay-failed"):
        response = await visitor.post(path, {"token": TOKEN}, with_xsrf=False)
        assert response.code == 403, path
        response = await visitor.post(path, {"token": TOKEN, "_xsrf": "2|00|11|22"}, with_xsrf=False)
        assert response.code == 403, path
    assert fake_pms.replayed == [] and fake_pms.replayed_all == 0


@pytest.mark.gen_test
async def test_posts_from_a_foreign_origin_are_refused(visitor, fake_pms):
    await visitor.login()
    response = await visitor.post("/deliveries/replay-failed", headers={"Origin": "http://evil.example",
                                                                         "Sec-Fetch-Site": "cross-site"})
    assert response.code == 403
    assert fake_pms.replayed_all == 0


def test_throttle_locks_after_too_many_failures_then_lets_go():
    now = [1000.0]
    throttle = LoginThrottle(max_failures=3, window=60, lockout=30, clock=lambda: now[0])
    for _ in range(2):
        throttle.failed("1.2.3.4")
    assert throttle.retry_after("1.2.3.4") is None
    throttle.failed("1.2.3.4")
    assert throttle.retry_after("1.2.3.4") == 30
    assert throttle.retry_after("5.6.7.8") is None
    now[0] += 31
    assert throttle.retry_after("1.2.3.4") is None


def test_throttle_refuses_everyone_when_failures_come_from_many_addresses():
    throttle = LoginThrottle(max_failures=5, window=60, lockout=30, max_global_failures=10, clock=lambda: 0.0)
    for i in range(10):
        throttle.failed(f"10.0.0.{i}")
    assert throttle.retry_after("192.168.1.1") == 30


def test_throttle_forgets_failures_outside_the_window():
    now = [0.0]
    throttle = LoginThrottle(max_failures=3, window=60, lockout=30, clock=lambda: now[0])
    throttle.failed("a")
    throttle.failed("a")
    now[0] += 61
    throttle.failed("a")
    assert throttle.retry_after("a") is None


@pytest.mark.parametrize("target, expected", [
    ("/events?type=x", "/events?type=x"), ("//evil.example", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"), (None, "/"), ("/logout", "/"),
])
def test_safe_next_keeps_only_local_paths(target, expected):
    assert safe_next(target) == expected
