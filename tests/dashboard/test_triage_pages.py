"""The triage pages over the real PMS and CRM (both database backends): the deliveries list with
its filters, columns, per-row replay and pagination; a delivery's destinations, request and CRM
event; short ids; bulk replays previewed then confirmed; the endpoints pages and their actions;
a profile's warning; rejections grouped; the notifications history."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import urlencode

import pytest

from core.db import utcnow
from dashboard.app import close_app, make_app
from dashboard.config import DashboardSettings
from pms_app.endpoints.models import Endpoint
from pms_app.models import OutboxEvent
from tests.support.endpoints import add_endpoint
from tests.support.receivers import Receiver, always
from tests.support.sync import deliver

from .support import TOKEN, Visitor, add_operator, serve_app


@pytest.fixture
def app(stack, users_file):
    application = make_app(
        DashboardSettings(
            pms_url=stack.pms_url,
            crm_url=stack.crm_url,
            token=TOKEN,
            poll_seconds=0.05,
            live_linger_seconds=0,
            request_timeout_seconds=5,
            users_file=users_file,
        )
    )
    yield application
    close_app(application)


def rows_of(body: str, table_id: str) -> list[str]:
    table = re.search(rf'<table class="rows" id="{table_id}">(.*?)</table>', body, re.S)
    assert table, f"no table {table_id}"
    return re.findall(r'<tr data-id="([^"]+)"', table.group(1))


async def page(visitor, path: str, code: int = 200) -> str:
    response = await visitor.get(path)
    assert response.code == code, (path, response.code, response.body[:300])
    return response.body.decode()


@pytest.mark.gen_test(timeout=60)
async def test_deliveries_list_filters_columns_and_a_replay_button_per_row(visitor, stack):
    guest_events = [stack.event(entity_id=n, kind="guest", action="created") for n in (1, 2, 3)]
    reservation = stack.event(entity_id=10, kind="reservation", action="created")
    stack.fail(guest_events[1], attempts=3, code=503, error="CRM answered 503 <b>busy</b>")
    stack.age(guest_events[0], minutes=180)
    await visitor.login()

    body = await page(visitor, "/deliveries")
    assert rows_of(body, "deliveries") == [reservation, *reversed(guest_events)]
    assert body.count('<form method="post" action="/deliveries/') == 4 + 2  # a Replay per row, and two bulk forms
    failed_row = re.search(rf'<tr data-id="{guest_events[1]}">(.*?)</tr>', body, re.S).group(1)
    assert 'data-field="last_status_code">503</span>' in failed_row
    assert "CRM answered 503 &lt;b&gt;busy&lt;/b&gt;" in failed_row  # escaped, never markup
    assert '<td class="num" data-field="attempt_count">3</td>' in failed_row
    pending_row = re.search(rf'<tr data-id="{reservation}">(.*?)</tr>', body, re.S).group(1)
    assert '<td data-field="next_attempt_at"><time' in pending_row

    async def listed(**query) -> list[str]:
        return rows_of(await page(visitor, "/deliveries?" + urlencode(query)), "deliveries")

    assert await listed(status="failed") == [guest_events[1]]
    assert await listed(type="reservation.created") == [reservation]
    assert await listed(entity_id="2") == [guest_events[1]]
    assert await listed(guest_id="3") == [guest_events[2]]
    assert await listed(id=guest_events[2][:8]) == [guest_events[2]]
    since = (utcnow() - dt.timedelta(minutes=60)).strftime("%Y-%m-%dT%H:%M")
    assert guest_events[0] not in await listed(since=since)
    assert await listed(until=since) == [guest_events[0]]

    refused = await page(visitor, "/deliveries?guest_id=abc")
    assert 'data-service="PMS"' in refused and "guest_id must be a non-negative integer" in refused
    bad_time = await page(visitor, "/deliveries?since=yesterday")
    assert "since: not a date and time" in bad_time and "PMS unavailable." not in bad_time


@pytest.mark.gen_test(timeout=60)
async def test_pagination_keeps_every_filter(visitor, stack):
    made = [stack.event(entity_id=7, version=n) for n in range(1, 56)]
    other = add_endpoint(stack.pms_store, "mirror", "https://mirror.example/hook")
    mirrored = stack.event(entity_id=7, version=99)  # the only one the new endpoint got
    await visitor.login()
    first = await page(visitor, "/deliveries?entity_id=7&type=guest.updated")
    older = html.unescape(re.search(r'<a href="([^"]+)" rel="next">', first).group(1))
    assert "entity_id=7" in older and "type=guest.updated" in older and "cursor=" in older
    second = await page(visitor, older)
    assert rows_of(first, "deliveries") + rows_of(second, "deliveries") == [mirrored, *reversed(made)]
    assert 'rel="next"' not in second
    assert rows_of(await page(visitor, f"/deliveries?endpoint={other}"), "deliveries") == [mirrored]


@pytest.mark.gen_test(timeout=60)
async def test_a_row_replay_acts_at_once_in_the_operators_name_and_returns_to_the_list(visitor, stack, users_file):
    add_operator(users_file, "alice", "correct horse battery")
    event_id = stack.event(entity_id=4)
    other = add_endpoint(stack.pms_store, "mirror", "https://mirror.example/hook")
    second = stack.event(entity_id=5)
    stack.fail(event_id)
    stack.fail(second, endpoint_id=other)
    await visitor.sign_in("alice", "correct horse battery")

    listing = "/deliveries?status=failed"
    body = await page(visitor, listing)
    form = re.search(
        rf'<form method="post" action="/deliveries/{event_id}/replay"[^>]*>(.*?)</form>', body, re.S
    ).group(1)
    assert 'name="next" value="/deliveries?status=failed"' in form and 'name="endpoint" value="1"' in form
    response = await visitor.post(f"/deliveries/{event_id}/replay", {"endpoint": "1", "next": listing})
    assert response.code == 302 and response.headers["Location"] == listing
    replayed = stack.delivery(event_id)
    assert (replayed.status, replayed.next_trigger, replayed.replayed_by) == ("pending", "replay", "alice")
    assert "Queued again" in await page(visitor, listing)

    # another endpoint's delivery, back to its detail page when no list was named
    response = await visitor.post(f"/deliveries/{second[:8]}/replay", {"endpoint": str(other)})
    assert response.code == 302 and response.headers["Location"] == f"/deliveries/{second[:8]}?endpoint={other}"
    assert stack.delivery(second, other).replayed_by == "alice"
    assert [(a[0], a[1], a[2]) for a in stack.audit()] == [
        ("alice", "delivery.replay", event_id),
        ("alice", "delivery.replay", second),
    ]
    # somewhere else is never where a replay returns to
    response = await visitor.post(f"/deliveries/{event_id}/replay", {"next": "//evil.example/"})
    assert response.headers["Location"] == "/"


@pytest.mark.gen_test(timeout=60)
async def test_a_delivery_shows_its_destinations_request_attempts_and_crm_event(visitor, stack):
    add_endpoint(
        stack.pms_store,
        "audit-sink",
        "https://sink:hunter2@audit.example/hook",
        secrets=("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",),
    )
    event_id = stack.event(entity_id=1, kind="guest", action="created")
    deliver(
        stack.pms_store,
        stack.crm_store,
        stack.pms_store.call(lambda: list(OutboxEvent.select().where(OutboxEvent.id == event_id))),
    )
    await visitor.login()

    body = await page(visitor, f"/deliveries/{event_id}")
    assert re.search(r'data-field="crm_event"><a href="/events/\d+">#\d+</a>', body)
    destinations = re.search(r'<table class="rows" id="destinations">(.*?)</table>', body, re.S).group(1)
    assert "1 · crm" in destinations and "2 · audit-sink" in destinations
    assert f'href="/deliveries/{event_id}?endpoint=2"' in destinations

    other = await page(visitor, f"/deliveries/{event_id[:8]}?endpoint=2")
    assert "https://sink:***@audit.example/hook" in other and "hunter2" not in other
    assert "<code>v1,***</code>" in other and "whsec_" not in other
    assert f"<code>{event_id}</code>" in other and 'data-field="crm_event"' not in other


@pytest.mark.gen_test(timeout=60)
async def test_an_ambiguous_short_id_says_so_and_lists_the_candidates(visitor, stack):
    ids = [stack.event(entity_id=n) for n in (1, 2)]

    def rename():
        from pms_app.models import Delivery

        for n, old in enumerate(ids):
            new = f"abcd1234-0000-4000-8000-00000000000{n}"
            OutboxEvent.update(id=new).where(OutboxEvent.id == old).execute()
            Delivery.update(event_id=new).where(Delivery.event_id == old).execute()

    stack.pms_store.call(rename)
    await visitor.login()
    body = await page(visitor, "/deliveries/abcd1234", code=409)
    assert "matches 2 deliveries" in body
    assert 'href="/deliveries?id=abcd1234"' in body
    assert len(rows_of(await page(visitor, "/deliveries?id=abcd1234"), "deliveries")) == 2
    assert (await visitor.get("/deliveries/abcd1234-0000-4000-8000-000000000001")).code == 200
    assert (await visitor.get("/deliveries/ffff0000")).code == 404


@pytest.mark.gen_test(timeout=60)
async def test_bulk_replay_per_endpoint_since_a_time_previews_then_acts_once_confirmed(visitor, stack, users_file):
    add_operator(users_file, "bob", "another fine password")
    other = add_endpoint(stack.pms_store, "mirror", "https://mirror.example/hook")
    old = stack.event(entity_id=1)
    recent = [stack.event(entity_id=n) for n in (2, 3, 4)]
    stack.age(old, minutes=120, endpoint_id=other)
    stack.set_delivery(recent[0], other, status="delivered", delivered_at=utcnow())
    await visitor.sign_in("bob", "another fine password")
    since = (utcnow() - dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")

    preview = await visitor.post("/deliveries/replay-failed", {"endpoint": str(other), "since": since})
    body = preview.body.decode()
    assert preview.code == 200 and 'data-failed-count="3"' in body
    assert f"deliveries created since {since} will be queued again" in body
    assert set(re.findall(r'<tr data-id="([^"]+)"', body)) == set(recent)
    confirm = re.search(
        r'<form method="post" action="/deliveries/replay-failed" class="inline" id="confirm-replay">(.*?)</form>',
        body,
        re.S,
    ).group(1)
    assert f'name="endpoint" value="{other}"' in confirm and f'name="since" value="{since}"' in confirm
    assert stack.audit() == [], "a preview must not act"

    response = await visitor.post("/deliveries/replay-failed", {"endpoint": str(other), "since": since, "confirm": "1"})
    assert response.code == 302 and response.headers["Location"] == f"/deliveries?endpoint={other}"
    assert [(a[0], a[1], a[3]["replayed"]) for a in stack.audit()] == [("bob", "deliveries.recover", 3)]
    assert (
        stack.delivery(recent[0], other).status == "pending" and stack.delivery(old, other).next_trigger == "scheduled"
    )

    # the failed ones of that endpoint: counted exactly, first rows shown
    stack.fail(old, endpoint_id=other)
    preview = (await visitor.post("/deliveries/replay-failed", {"endpoint": str(other)})).body.decode()
    assert 'data-failed-count="1"' in preview and old in preview
    await visitor.post("/deliveries/replay-failed", {"endpoint": str(other), "confirm": "1"})
    assert stack.audit()[-1][:2] == ("bob", "deliveries.replay_failed")
    assert stack.delivery(old, other).replayed_by == "bob"

    refused = await visitor.post("/deliveries/replay-failed", {"since": "last tuesday", "confirm": "1"})
    assert refused.code == 302 and len(stack.audit()) == 2


@pytest.mark.gen_test(timeout=60)
async def test_the_endpoints_page_shows_each_endpoints_health(visitor, stack):
    other = add_endpoint(stack.pms_store, "warehouse", "https://warehouse.example/hook", enabled=False)
    failed = stack.event(entity_id=1)
    stack.fail(failed)  # three attempts answered 500 in the last hour
    stack.age(stack.event(entity_id=2), minutes=12)
    await visitor.login()
    body = await page(visitor, "/endpoints")
    assert rows_of(body, "endpoints") == ["1", str(other)]
    crm = re.search(r'<tr data-id="1"[^>]*>(.*?)</tr>', body, re.S).group(1)
    assert 'data-field="success_rate">0.0% <span class="dim">of 3</span>' in crm
    assert 'data-field="latency">40 / 60 ms' in crm
    assert 'href="/deliveries?endpoint=1&amp;status=failed">1</a>' in crm
    assert 'data-field="oldest_pending">12 min<' in crm  # past a minute, an age is whole minutes
    warehouse = re.search(rf'<tr data-id="{other}"[^>]*>(.*?)</tr>', body, re.S).group(1)
    assert "disabled" in warehouse and "manual" in warehouse and 'class="trouble"' in body


@pytest.mark.gen_test(timeout=60)
async def test_creating_an_endpoint_shows_its_secret_once_and_refusals_keep_the_form(visitor, stack):
    await visitor.login()
    form = await page(visitor, "/endpoints/new")
    assert 'action="/endpoints/new"' in form and 'name="_xsrf"' in form

    refused = await visitor.post("/endpoints/new", {"name": "Bad Name", "url": "ftp://x", "event_types": "guest.*"})
    body = refused.body.decode()
    assert refused.code == 422
    assert 'id="name-error">must be 1 to 64 of a-z, 0-9 and -' in body and 'id="url-error"' in body
    assert 'value="Bad Name"' in body and 'value="guest.*"' in body

    created = await visitor.post(
        "/endpoints/new",
        {
            "name": "loyalty",
            "url": "https://loyalty.example/in",
            "event_types": "guest.*, reservation.created",
            "enabled": "1",
            "timeout_seconds": "4",
        },
    )
    body = created.body.decode()
    assert created.code == 201
    secret = re.search(r'<code class="secret" id="new-secret">(whsec_[^<]+)</code>', body).group(1)
    endpoint = stack.pms_store.call(lambda: Endpoint.get(Endpoint.name == "loyalty"))
    assert endpoint.event_types == ["guest.*", "reservation.created"] and endpoint.timeout_seconds == 4
    detail = await page(visitor, f"/endpoints/{endpoint.id}")
    assert secret not in detail and secret[:8] in detail  # only its prefix, ever again
    assert "gs_flash" not in str(created.headers.get_list("Set-Cookie"))
    assert ("ops", "endpoint.create") == stack.audit()[-1][:2]

    taken = await visitor.post("/endpoints/new", {"name": "loyalty", "url": "https://other.example/in"})
    assert taken.code == 409 and "exists already" in taken.body.decode()


@pytest.mark.gen_test(timeout=60)
async def test_an_endpoints_page_edits_enables_disables_rotates_and_pings(visitor, stack, users_file):
    add_operator(users_file, "carol", "yet another password")
    with Receiver(always(202)) as receiver:
        endpoint_id = add_endpoint(stack.pms_store, "pinged", receiver.url.replace("127.0.0.1", "user:pw@127.0.0.1"))
        stack.transition(endpoint_id, "closed", "open")
        stack.transition(endpoint_id, "open", "half_open")
        await visitor.sign_in("carol", "yet another password")
        path = f"/endpoints/{endpoint_id}"
        body = await page(visitor, path)
        assert len(re.findall(r"<tr><td><time", re.search(r'id="transitions">(.*?)</table>', body, re.S).group(1))) == 2
        shown_url = html.unescape(re.search(r'name="url_shown" value="([^"]+)"', body).group(1))
        assert ":***@" in shown_url

        # saving with the masked URL untouched keeps the real one (and its password)
        response = await visitor.post(
            path,
            {
                "name": "pinged",
                "url": shown_url,
                "url_shown": shown_url,
                "description": "Loyalty scheme",
                "event_types": "",
                "timeout_seconds": "",
            },
        )
        assert response.code == 302 and response.headers["Location"] == path
        saved = stack.pms_store.call(lambda: Endpoint.get_by_id(endpoint_id))
        assert saved.url.startswith("http://user:pw@") and saved.description == "Loyalty scheme"
        refused = await visitor.post(
            path, {"name": "pinged", "url": shown_url, "url_shown": shown_url, "timeout_seconds": "soon"}
        )
        assert refused.code == 422 and 'id="timeout_seconds-error"' in refused.body.decode()

        response = await visitor.post(f"{path}/test")
        assert response.code == 302
        assert "Test ping delivered: the endpoint answered 202" in await page(visitor, path)
        assert sum(receiver.hits.values()) == 1
        (ping_id,) = list(receiver.hits)
        ping = await page(visitor, f"/deliveries/{ping_id}?endpoint={endpoint_id}")
        assert re.search(r'data-field="target_url"><code class="url">http://user:\*\*\*@127\.0\.0\.1:\d+/', ping)
        assert "<code>v1,***</code>" in ping and '<code data-field="trigger">' not in ping
        assert "<code>test</code>" in ping and '<td data-field="replayed_by">carol</td>' in ping

        await visitor.post(f"{path}/disable")
        assert "Disabled: new deliveries to it are held" in await page(visitor, path)
        assert stack.pms_store.call(lambda: Endpoint.get_by_id(endpoint_id)).disabled_reason == "manual"
        await visitor.post(f"{path}/enable")
        assert stack.pms_store.call(lambda: Endpoint.get_by_id(endpoint_id)).enabled

        rotated = await visitor.post(f"{path}/rotate", {"overlap_seconds": "60"})
        body = rotated.body.decode()
        assert rotated.code == 200 and "never shown again" in body and "valid for 60 seconds" in body
        new_secret = re.search(r'id="new-secret">(whsec_[^<]+)<', body).group(1)
        assert new_secret not in await page(visitor, path)
    assert [a[1] for a in stack.audit()] == [
        "endpoint.update",
        "endpoint.test",
        "endpoint.disable",
        "endpoint.enable",
        "endpoint.rotate_secret",
    ]
    assert {a[0] for a in stack.audit()} == {"carol"}
    assert (await visitor.get("/endpoints/999")).code == 404
    audit = await page(visitor, "/audit?action=endpoint.rotate_secret")
    assert f'<a href="/endpoints/{endpoint_id}"><code>{endpoint_id}</code></a>' in audit
    assert "overlap seconds: 60" in audit and '<option value="endpoint.rotate_secret" selected>' in audit


@pytest.mark.gen_test(timeout=60)
async def test_a_profile_warns_when_the_pms_holds_undelivered_changes_for_the_guest(visitor, stack):
    created = stack.event(entity_id=8, kind="guest", action="created")
    deliver(
        stack.pms_store,
        stack.crm_store,
        stack.pms_store.call(lambda: list(OutboxEvent.select().where(OutboxEvent.id == created))),
    )
    await visitor.login()
    assert 'id="undelivered"' not in await page(visitor, "/profiles/8")
    stack.fail(stack.event(entity_id=8, version=2))
    body = await page(visitor, "/profiles/8")
    assert 'id="undelivered"' in body
    assert 'href="/deliveries?guest_id=8&amp;status=failed">1 failed delivery</a>' in body


@pytest.mark.gen_test(timeout=60)
async def test_rejections_filter_by_reason_and_group_the_last_hour(visitor, stack, http_client):
    for secret_ok in (False, False, True):
        await http_client.fetch(
            stack.crm_url + "/api/v1/webhooks/pms",
            method="POST",
            raise_error=False,
            body=b'{"type": "guest.created"}',
            headers={
                "Content-Type": "application/json",
                "webhook-id": "wh-1",
                "webhook-timestamp": str(int(utcnow().timestamp()) if secret_ok else 1),
                "webhook-signature": "v1,Zm9v",
            },
        )
    await visitor.login()
    body = await page(visitor, "/rejections")
    groups = re.search(r'id="rejection-groups">(.*?)</table>', body, re.S).group(1)
    assert "timestamp_out_of_tolerance" in groups and "invalid_signature" in groups
    assert '<td class="num" data-field="count">2</td>' in groups
    only = await page(visitor, "/rejections?reason=invalid_signature")
    assert len(rows_of(only, "rejections")) == 1
    filtered_groups = re.search(r'id="rejection-groups">(.*?)</table>', only, re.S).group(1)
    assert "invalid_signature" in filtered_groups and "timestamp_out_of_tolerance" not in filtered_groups


@pytest.mark.gen_test(timeout=60)
async def test_notifications_history_filters_and_links(visitor, stack):
    first = stack.notify("endpoint.failing", 1, {"failure_count": 5})
    second = stack.notify(
        "delivery.failed",
        2,
        {"event_id": "0d9c2f7e-1111-4222-8333-444455556666", "type": "guest.updated", "last_error": "<b>boom</b>"},
    )
    await visitor.login()
    body = await page(visitor, "/notifications")
    assert rows_of(body, "notifications") == [str(second), str(first)]
    assert 'href="/endpoints/1">Failing: endpoint 1 (CRM)</a>' in body and "5 failures in a row" in body
    assert 'href="/deliveries/0d9c2f7e-1111-4222-8333-444455556666?endpoint=2"' in body
    assert "&lt;b&gt;boom&lt;/b&gt;" in body
    assert rows_of(await page(visitor, "/notifications?type=endpoint.failing"), "notifications") == [str(first)]
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', body, re.S).group(1)
    assert '<a href="/notifications" aria-current="page">' in nav and 'href="/endpoints"' in nav


@pytest.mark.gen_test(timeout=60)
async def test_every_triage_page_says_the_pms_is_down_instead_of_failing(stack, dead_url, http_client, tmp_path):
    dashboard = make_app(
        DashboardSettings(
            pms_url=dead_url,
            crm_url=stack.crm_url,
            token=TOKEN,
            poll_seconds=0.05,
            live_linger_seconds=0,
            request_timeout_seconds=2,
            users_file=tmp_path / "users.txt",
        )
    )
    server, url = serve_app(dashboard)
    try:
        visitor = Visitor(http_client, url)
        await visitor.login()
        for path in (
            "/endpoints",
            "/endpoints/1",
            "/notifications",
            "/deliveries?endpoint=2",
            "/deliveries/0d9c2f7e?endpoint=2",
            "/rejections",
        ):
            body = await page(visitor, path)
            if path == "/rejections":
                assert "unavailable." not in body
            else:
                assert 'data-service="PMS"' in body and "PMS unavailable." in body, path
        for path, form in (
            ("/endpoints/1/test", {}),
            ("/endpoints/1/disable", {}),
            ("/endpoints/1/rotate", {}),
            ("/deliveries/0d9c2f7e/replay", {"endpoint": "2"}),
        ):
            response = await visitor.post(path, form)
            assert response.code == 302, path
            assert "is unreachable" in await page(visitor, response.headers["Location"]), path
        created = await visitor.post("/endpoints/new", {"name": "x", "url": "https://x.example/"})
        assert created.code == 503 and "nothing was created" in created.body.decode()
    finally:
        close_app(dashboard)
        server.stop()
