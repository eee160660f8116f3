"""Signing in and out through the real dashboard: operators, the token, server-side sessions,
the throttle, the return path after sign-in, and XSRF on the forms."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import quote

import pytest

from dashboard.throttle import LoginThrottle

from .support import TOKEN, Visitor, add_operator, remove_operator

FAILED = "Sign-in failed: the user name or password is not right."


def signed_in_as(body: bytes) -> str | None:
    match = re.search(r"<strong data-operator>([^<]*)</strong>", body.decode())
    return match.group(1) if match else None


def form_error(body: bytes) -> str | None:
    match = re.search(r'<p class="form-error" role="alert">([^<]*)</p>', body.decode())
    return match.group(1) if match else None


@pytest.mark.gen_test
async def test_pages_redirect_to_login_when_not_logged_in(visitor):
    for path in (
        "/",
        "/events",
        "/events/1",
        "/profiles",
        "/profiles/1",
        "/deliveries",
        "/deliveries/abc",
        "/rejections",
        "/audit",
    ):
        response = await visitor.get(path)
        assert response.code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


@pytest.mark.gen_test
async def test_login_page_asks_for_a_user_name_and_password_with_xsrf(visitor):
    response = await visitor.get("/login")
    body = response.body.decode()
    assert response.code == 200
    assert 'name="username"' in body and 'name="password"' in body and 'type="password"' in body
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
async def test_every_sign_in_gets_its_own_session_id(http_client, base_url, fake_pms, fake_crm):
    first, second = Visitor(http_client, base_url), Visitor(http_client, base_url)
    await first.login()
    await second.login()
    assert first.cookies["gs_session"] != second.cookies["gs_session"]
    before = first.cookies["gs_session"]
    await first.login()  # signing in again replaces the session, and ends the old one
    assert first.cookies["gs_session"] != before
    stale = Visitor(http_client, base_url)
    stale.cookies["gs_session"] = before
    assert (await stale.get("/")).code == 302


@pytest.mark.parametrize(
    "form",
    [
        {"token": TOKEN},  # the first dashboard's form
        {"username": "", "password": TOKEN},
        {"username": "ops", "password": TOKEN},
        {"username": " OPS ", "password": TOKEN},
    ],
)
@pytest.mark.gen_test
async def test_the_token_signs_in_as_ops(visitor, fake_pms, fake_crm, form):
    response = await visitor.post("/login", form)
    assert response.code == 302, form_error(response.body)
    assert signed_in_as((await visitor.get("/")).body) == "ops"


@pytest.mark.gen_test
async def test_a_named_operator_signs_in_and_the_header_says_who(visitor, fake_pms, fake_crm, users_file):
    add_operator(users_file, "alice", "correct horse battery")
    response = await visitor.sign_in("Alice", "correct horse battery", "/events")
    assert response.code == 302 and response.headers["Location"] == "/events"
    page = await visitor.get("/events")
    assert page.code == 200 and signed_in_as(page.body) == "alice"
    # the token is not alice's password, and alice's password is not the token
    other = Visitor(visitor.http, visitor.base_url)
    assert (await other.sign_in("alice", TOKEN)).code == 401
    assert (await other.sign_in("", "correct horse battery")).code == 401


@pytest.mark.gen_test
async def test_every_failed_sign_in_gets_the_same_answer(visitor, users_file):
    add_operator(users_file, "alice", "correct horse battery")
    answers = []
    for username, password in (
        ("alice", "wrong password"),
        ("nobody", "correct horse battery"),
        ("", "not-the-token"),
        ("ops", "not-the-token"),
        ("alice", ""),
        ("x" * 300, "y"),
    ):
        response = await visitor.post("/login", {"username": username, "password": password})
        answers.append((response.code, form_error(response.body)))
        assert "gs_session" not in visitor.cookies
    assert answers == [(401, FAILED)] * len(answers)


@pytest.mark.gen_test
async def test_a_signed_out_cookie_no_longer_opens_a_page(visitor, fake_pms, fake_crm):
    await visitor.login()
    copied = dict(visitor.cookies)
    assert (await visitor.get("/")).code == 200
    response = await visitor.logout()
    assert response.code == 302 and response.headers["Location"] == "/login"
    assert "gs_session" not in visitor.cookies
    visitor.cookies.update(copied)  # the browser (or a thief) presents the old cookie again
    again = await visitor.get("/")
    assert again.code == 302 and again.headers["Location"].startswith("/login")


@pytest.mark.gen_test
async def test_signing_out_ends_only_that_session(http_client, base_url, fake_pms, fake_crm):
    laptop, phone = Visitor(http_client, base_url), Visitor(http_client, base_url)
    await laptop.login()
    await phone.login()
    await laptop.logout()
    assert (await laptop.get("/")).code == 302
    assert (await phone.get("/")).code == 200


@pytest.mark.gen_test
async def test_removing_an_operator_or_changing_their_password_ends_their_sessions(
    http_client, base_url, fake_pms, fake_crm, users_file
):
    add_operator(users_file, "alice", "correct horse battery")
    add_operator(users_file, "bob", "bob's long password")
    alice, alice2, bob = (Visitor(http_client, base_url) for _ in range(3))
    await alice.sign_in("alice", "correct horse battery")
    await alice2.sign_in("alice", "correct horse battery")
    await bob.sign_in("bob", "bob's long password")
    assert {(await v.get("/")).code for v in (alice, alice2, bob)} == {200}

    add_operator(users_file, "alice", "a brand new password")  # the command line changes it
    assert (await alice.get("/")).code == 302
    assert (await alice2.get("/")).code == 302
    assert (await bob.get("/")).code == 200
    assert (await alice.sign_in("alice", "correct horse battery")).code == 401
    assert (await alice.sign_in("alice", "a brand new password")).code == 302
    assert (await alice.get("/")).code == 200

    remove_operator(users_file, "bob")
    assert (await bob.get("/")).code == 302
    assert (await bob.sign_in("bob", "bob's long password")).code == 401
    assert (await alice.get("/")).code == 200


@pytest.mark.gen_test
async def test_idle_and_old_sessions_expire(visitor, app, fake_pms, fake_crm):
    now = [1000.0]
    sessions = app.settings["sessions"]
    sessions.clock = lambda: now[0]
    await visitor.login()
    now[0] += sessions.idle_seconds - 1
    assert (await visitor.get("/")).code == 200  # a request restarts the idle time
    now[0] += sessions.idle_seconds - 1
    assert (await visitor.get("/")).code == 200
    now[0] += sessions.idle_seconds + 1
    assert (await visitor.get("/")).code == 302

    await visitor.login()
    for _ in range(int(sessions.max_age_seconds // sessions.idle_seconds) + 1):
        now[0] += sessions.idle_seconds - 1
        response = await visitor.get("/")
    assert response.code == 302, "a session in constant use still ends at its maximum age"


@pytest.mark.gen_test
async def test_logout_is_a_post_only(visitor, fake_pms, fake_crm):
    await visitor.login()
    response = await visitor.get("/logout")
    assert response.code == 405
    assert "That is not something this page can do." in response.body.decode()
    assert (await visitor.get("/")).code == 200, "a GET (a link, an image) must not sign anyone out"
    page = (await visitor.get("/")).body.decode()
    form = re.search(r'<form method="post" action="/logout">(.*?)</form>', page)
    assert form and 'name="_xsrf"' in form.group(1)


# --- throttle ------------------------------------------------------------------------------


def use_throttle(app, **options) -> list[float]:
    """Replace the app's throttle with one on a fake clock; returns the clock to move."""
    now = [0.0]
    app.settings["login_throttle"] = LoginThrottle(clock=lambda: now[0], **options)
    return now


@pytest.mark.gen_test
async def test_repeated_failures_are_throttled_even_for_the_right_token(visitor):
    for _ in range(5):
        assert (await visitor.login("wrong")).code == 401
    locked = await visitor.login()
    assert locked.code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in form_error(locked.body)
    assert "gs_session" not in visitor.cookies


@pytest.mark.gen_test
async def test_delays_grow_and_pass(visitor, app, fake_pms, fake_crm, users_file):
    add_operator(users_file, "alice", "correct horse battery")
    now = use_throttle(app, free_per_user=3, free_per_address=100, base_delay=1, max_delay=8)
    for _ in range(2):
        assert (await visitor.sign_in("alice", "wrong")).code == 401
    waits = []
    for _ in range(5):
        assert (await visitor.sign_in("alice", "wrong")).code == 401
        refused = await visitor.sign_in("alice", "correct horse battery")  # refused unchecked while waiting
        assert refused.code == 429
        waits.append(int(refused.headers["Retry-After"]))
        now[0] += waits[-1]
    assert waits == [1, 2, 4, 8, 8]
    assert (await visitor.sign_in("alice", "correct horse battery")).code == 302


@pytest.mark.gen_test
async def test_failures_against_one_name_do_not_lock_out_another(http_client, base_url, fake_pms, fake_crm):
    attacker, colleague = Visitor(http_client, base_url), Visitor(http_client, base_url)  # one office address
    for _ in range(5):
        assert (await attacker.sign_in("alice", "guess")).code == 401
    assert (await attacker.sign_in("alice", "correct horse battery")).code == 429
    assert (await colleague.login()).code == 302


@pytest.mark.gen_test(timeout=30)
async def test_many_failures_never_lock_out_everyone(visitor, app, fake_pms, fake_crm):
    # Each unknown name costs a full-strength hash; 25 names are enough to pass any small
    # overall limit without making the test slow (the unit tests go to thousands).
    use_throttle(app, free_per_address=1000, free_per_user=5)
    for i in range(25):
        assert (await visitor.sign_in(f"guess{i}", "wrong")).code == 401
    assert (await visitor.login()).code == 302


@pytest.mark.gen_test
async def test_parallel_guesses_cannot_slip_past_the_delay(visitor, app, fake_pms, fake_crm, users_file):
    add_operator(users_file, "alice", "correct horse battery")
    await visitor.xsrf()
    answers = await asyncio.gather(*(visitor.sign_in("alice", f"guess {i}") for i in range(20)))
    codes = sorted(a.code for a in answers)
    assert codes == [401] * 5 + [429] * 15  # five free tries, however they are timed


@pytest.mark.gen_test
async def test_one_address_is_throttled_whatever_name_it_tries(visitor, app):
    use_throttle(app, free_per_address=10, free_per_user=5)
    for i in range(10):
        assert (await visitor.sign_in(f"name{i}", "wrong")).code == 401
    refused = await visitor.login()
    assert refused.code == 429 and refused.headers["Retry-After"] == "1"


# --- where to go after signing in ------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.example/",
    "///evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\r\nSet-Cookie: x=1",
    "\t//evil.example",
    " //evil.example",
    "/%09/evil.example",
    "/%0d%0a/evil",
    "/\\evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "https:evil.example",
    "https://evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "/../..//evil.example",
    "/%2e%2e/%2e%2e//evil.example",
    "/\x00",
    "/\u00fcber",
    "evil.example",
]


@pytest.mark.gen_test
async def test_login_returns_to_the_page_asked_for(visitor):
    xsrf = await visitor.xsrf()
    response = await visitor.post("/login", {"token": TOKEN, "_xsrf": xsrf, "next": "/events?type=guest.created"})
    assert response.headers["Location"] == "/events?type=guest.created"


@pytest.mark.gen_test
async def test_login_never_sends_anyone_to_another_site(visitor):
    for target in HOSTILE_NEXT:
        response = await visitor.post("/login", {"token": TOKEN, "next": target})
        assert response.code == 302, (target, response.code)
        assert response.headers["Location"] == "/", target
    # signed in, the login page sends the visitor on at once: the same rule holds
    for target in HOSTILE_NEXT:
        response = await visitor.get("/login?next=" + quote(target, safe=""))
        assert response.code == 302, (target, response.code)
        assert response.headers["Location"] == "/", target
    # the raw query string spellings a browser may send
    for raw in ("/%09/evil.example", "//evil.example", "/%0d%0aSet-Cookie:x=1", "/%5C%5Cevil"):
        response = await visitor.get("/login?next=" + raw)
        assert response.code == 302 and response.headers["Location"] == "/", raw


@pytest.mark.gen_test
async def test_the_login_form_does_not_carry_a_hostile_next(visitor):
    body = (await visitor.get("/login?next=" + quote("/%09/evil.example", safe=""))).body.decode()
    assert 'name="next" value="/"' in body


# --- forms ---------------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_posts_without_xsrf_are_refused(visitor, fake_pms):
    await visitor.login()
    row = fake_pms.add_delivery(status="failed")
    for path in ("/login", "/logout", f"/deliveries/{row['id']}/replay", "/deliveries/replay-failed"):
        response = await visitor.post(path, {"token": TOKEN, "confirm": "1"}, with_xsrf=False)
        assert response.code == 403, path
        response = await visitor.post(path, {"token": TOKEN, "confirm": "1", "_xsrf": "2|00|11|22"}, with_xsrf=False)
        assert response.code == 403, path
    assert fake_pms.replayed == [] and fake_pms.replayed_all == 0
    assert (await visitor.get("/")).code == 200


@pytest.mark.gen_test
async def test_posts_from_a_foreign_origin_are_refused(visitor, fake_pms):
    await visitor.login()
    response = await visitor.post(
        "/deliveries/replay-failed",
        {"confirm": "1"},
        headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.code == 403
    assert fake_pms.replayed_all == 0
