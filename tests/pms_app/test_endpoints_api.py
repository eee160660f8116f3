"""The endpoints API through the real PMS app: every route, its errors, the audit log, and
the behaviour behind it (held deliveries, rotation, enable in order, the test ping)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt

import pytest
from standardwebhooks import Webhook

from core.config import parse_networks
from core.db import utcnow
from pms_app.endpoints import crm
from pms_app.models import DELIVERED, FAILED, HELD, PENDING, Delivery
from tests.support.delivery import add_event, delivery_settings, running_worker, statuses
from tests.support.endpoints import ENDPOINT_KEYS
from tests.support.http import call, json_of
from tests.support.receivers import Receiver, accept, always, wait_until


async def api(http_client, base_url, method, path, body=None, operator="alice", raw=None):
    headers = {"X-Operator": operator} if operator else {}
    return await call(http_client, base_url, method, "/api/v1" + path, body, headers=headers, raw=raw)


async def create(http_client, base_url, **fields) -> dict:
    body = {"name": "loyalty", "url": "https://loyalty.example.com/hooks", **fields}
    r = await api(http_client, base_url, "POST", "/endpoints", body)
    assert r.code == 201, r.body
    return json_of(r)["data"]


async def audit_actions(http_client, base_url) -> list[tuple]:
    entries = json_of(await api(http_client, base_url, "GET", "/audit"))["data"]
    return [(e["operator"], e["action"], e["target"]) for e in reversed(entries)]


@pytest.mark.gen_test
async def test_create_answers_the_secret_once_and_never_again(http_client, base_url, pms_db):
    made = await create(http_client, base_url, event_types=["guest.*"], description="Loyalty engine")
    assert set(made) == ENDPOINT_KEYS | {"secret"}
    secret = made["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert [s["prefix"] for s in made["secrets"]] == [secret[:8]]
    # The service defaults apply to what the endpoint did not set.
    assert (made["timeout_seconds"], made["max_in_flight"], made["breaker"]) == (
        10.0,
        8,
        {"failure_threshold": 5, "recovery_seconds": 30},
    )
    assert (made["enabled"], made["disabled_reason"], made["retry_schedule"]) == (True, None, None)
    r = await api(http_client, base_url, "GET", f"/endpoints/{made['id']}")
    assert r.code == 200 and secret not in r.body.decode()
    assert json_of(r)["data"] == {k: v for k, v in made.items() if k != "secret"}
    listed = json_of(await api(http_client, base_url, "GET", "/endpoints"))
    assert [e["name"] for e in listed["data"]] == ["crm", "loyalty"] and listed["next_cursor"] is None
    assert secret not in (await api(http_client, base_url, "GET", "/endpoints")).body.decode()
    # A given secret is kept as given.
    given = await create(http_client, base_url, name="warehouse", secret="my-own-secret-value")
    assert given["secret"] == "my-own-secret-value"
    assert ("alice", "endpoint.create", str(made["id"])) in await audit_actions(http_client, base_url)


@pytest.mark.gen_test
async def test_invalid_fields_get_one_detail_each(http_client, base_url, pms_db):
    r = await api(
        http_client,
        base_url,
        "POST",
        "/endpoints",
        {
            "name": "Not Valid!",
            "url": "ftp://example.com/x",
            "event_types": "guest.*",
            "retry_schedule": [5, -1],
            "timeout_seconds": 0,
            "rate_limit_per_second": "fast",
            "max_in_flight": 0,
            "breaker": {"failure_threshold": 0},
            "secret": "short",
        },
    )
    assert r.code == 422
    error = json_of(r)["error"]
    assert error["code"] == "validation_error"
    assert sorted(d["field"] for d in error["details"]) == sorted(
        [
            "name",
            "url",
            "event_types",
            "retry_schedule",
            "timeout_seconds",
            "rate_limit_per_second",
            "max_in_flight",
            "breaker.failure_threshold",
            "secret",
        ]
    )
    r = await api(http_client, base_url, "POST", "/endpoints", {})
    assert sorted(d["field"] for d in json_of(r)["error"]["details"]) == ["name", "url"]


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://example.com/hook", True),
        ("http://127.0.0.1:9000/hook?x=1", True),
        ("https://example.com/" + "a" * 1980, True),  # 2,000 characters
        ("https://example.com/" + "a" * 1981, False),  # 2,001
        ("example.com/hook", False),
        ("/relative/path", False),
        ("javascript:alert(1)", False),
        ("http:///nohost", False),
        ("https://example.com:99999/", False),
        ("https://exa mple.com/", False),
    ],
)
async def test_url_checks(http_client, base_url, pms_db, url, ok):
    r = await api(http_client, base_url, "POST", "/endpoints", {"name": "u", "url": url})
    assert r.code == (201 if ok else 422), r.body
    if not ok:
        assert [d["field"] for d in json_of(r)["error"]["details"]] == ["url"]


@pytest.mark.gen_test
async def test_exponential_retry_schedule_is_accepted_and_checked(http_client, base_url, pms_db):
    schedule = {"exponential": {"initial_seconds": 2, "factor": 3, "max_seconds": 600, "max_retries": 6}}
    made = await create(http_client, base_url, retry_schedule=schedule)
    assert made["retry_schedule"] == {
        "exponential": {"initial_seconds": 2.0, "factor": 3.0, "max_seconds": 600.0, "max_retries": 6}
    }
    r = await api(
        http_client,
        base_url,
        "POST",
        "/endpoints",
        {
            "name": "bad",
            "url": "https://x.example/",
            "retry_schedule": {"exponential": {"initial_seconds": 9, "max_seconds": 3}},
        },
    )
    assert sorted(d["field"] for d in json_of(r)["error"]["details"]) == [
        "retry_schedule.exponential.factor",
        "retry_schedule.exponential.max_retries",
    ]


@pytest.mark.gen_test
async def test_names_are_unique(http_client, base_url, pms_db):
    await create(http_client, base_url)
    r = await api(http_client, base_url, "POST", "/endpoints", {"name": "loyalty", "url": "https://b.example/"})
    assert r.code == 409 and json_of(r)["error"]["code"] == "conflict"
    other = await create(http_client, base_url, name="other")
    r = await api(http_client, base_url, "PUT", f"/endpoints/{other['id']}", {"name": "crm"})
    assert r.code == 409


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/endpoints/999"),
        ("PUT", "/endpoints/999"),
        ("DELETE", "/endpoints/999"),
        ("POST", "/endpoints/999/secret/rotate"),
        ("POST", "/endpoints/999/enable"),
        ("POST", "/endpoints/999/disable"),
        ("GET", "/endpoints/999/status"),
        ("GET", "/endpoints/999/deliveries"),
        ("POST", "/endpoints/999/deliveries/replay"),
        ("POST", "/endpoints/999/deliveries/abc/replay"),
        ("POST", "/endpoints/999/test"),
        ("GET", "/endpoints/99999999999999999999999"),
    ],
)
async def test_unknown_endpoint_is_404(http_client, base_url, pms_db, method, path):
    body = {"name": "x"} if method == "PUT" else None
    r = await api(http_client, base_url, method, path, body)
    assert r.code == 404 and json_of(r)["error"]["code"] == "not_found"


@pytest.mark.gen_test
async def test_partial_update_and_endpoint_1_stops_following_the_configuration(http_client, base_url, pms_db):
    made = await create(http_client, base_url, event_types=["guest.*"], timeout_seconds=3)
    r = await api(
        http_client,
        base_url,
        "PUT",
        f"/endpoints/{made['id']}",
        {"description": "now with a description", "breaker": {"failure_threshold": 2}},
    )
    assert r.code == 200
    data = json_of(r)["data"]
    assert (data["description"], data["event_types"], data["timeout_seconds"]) == (
        "now with a description",
        ["guest.*"],
        3.0,
    )
    assert data["breaker"] == {"failure_threshold": 2, "recovery_seconds": 30}
    r = await api(http_client, base_url, "PUT", "/endpoints/1", {"url": "https://crm.example.com/hook"})
    assert r.code == 200
    pms_db.store.call(crm.sync, "http://from-the-environment/", ("s1",))
    assert (
        json_of(await api(http_client, base_url, "GET", "/endpoints/1"))["data"]["url"]
        == "https://crm.example.com/hook"
    )
    assert ("alice", "endpoint.update", "1") in await audit_actions(http_client, base_url)


@pytest.mark.gen_test
async def test_delete_drops_pending_deliveries_and_keeps_history(http_client, base_url, pms_db):
    store = pms_db.store
    made = await create(http_client, base_url)
    done, waiting = add_event(store, entity_id=1), add_event(store, entity_id=2)
    store.call(
        lambda: (
            Delivery.update(status=DELIVERED)
            .where((Delivery.event_id == done) & (Delivery.endpoint_id == made["id"]))
            .execute()
        )
    )
    r = await api(http_client, base_url, "DELETE", f"/endpoints/{made['id']}")
    assert r.code == 204 and not r.body
    assert statuses(store, made["id"]) == {done: DELIVERED}
    assert set(statuses(store)) == {done, waiting}  # the CRM's deliveries are untouched
    assert (await api(http_client, base_url, "GET", f"/endpoints/{made['id']}")).code == 404
    r = await api(http_client, base_url, "DELETE", "/endpoints/1")
    assert r.code == 409
    assert ("alice", "endpoint.delete", str(made["id"])) in await audit_actions(http_client, base_url)


@pytest.mark.gen_test
async def test_rotation_signs_with_both_secrets_while_both_are_valid(http_client, base_url, pms_db):
    store = pms_db.store
    with Receiver(accept) as receiver, Receiver(accept) as crm_rx:
        made = await create(http_client, base_url, url=receiver.url)
        old = made["secret"]
        r = await api(http_client, base_url, "POST", f"/endpoints/{made['id']}/secret/rotate")
        assert r.code == 200
        new = json_of(r)["data"]["secret"]
        assert new.startswith("whsec_") and new != old
        shown = json_of(await api(http_client, base_url, "GET", f"/endpoints/{made['id']}"))["data"]["secrets"]
        assert [s["prefix"] for s in shown] == [old[:8], new[:8]]
        expires = dt.datetime.fromisoformat(shown[0]["expires_at"].replace("Z", "+00:00")).replace(tzinfo=None)
        assert abs((expires - utcnow()).total_seconds() - 86400) < 60 and shown[1]["expires_at"] is None
        event_id = add_event(store)
        with running_worker(delivery_settings(crm_rx.url), store):
            wait_until(lambda: statuses(store, made["id"]).get(event_id) == DELIVERED, message="delivered")
        (request,) = receiver.received
        assert request.headers["webhook-signature"].count("v1,") == 2
        for secret in (old, new):  # a receiver on either secret accepts it
            assert Webhook(secret).verify(request.body, request.headers)["idempotency_key"] == event_id
        # Overlap 0: the old secrets stop at once and are gone.
        r = await api(http_client, base_url, "POST", f"/endpoints/{made['id']}/secret/rotate", {"overlap_seconds": 0})
        newest = json_of(r)["data"]["secret"]
        shown = json_of(await api(http_client, base_url, "GET", f"/endpoints/{made['id']}"))["data"]["secrets"]
        assert [s["prefix"] for s in shown] == [newest[:8]]
    r = await api(http_client, base_url, "POST", f"/endpoints/{made['id']}/secret/rotate", {"overlap_seconds": -1})
    assert r.code == 422 and json_of(r)["error"]["details"][0]["field"] == "overlap_seconds"
    actions = await audit_actions(http_client, base_url)
    assert actions.count(("alice", "endpoint.rotate_secret", str(made["id"]))) == 2


@pytest.mark.gen_test
async def test_disabled_endpoint_holds_and_enable_sends_in_order(http_client, base_url, pms_db):
    store = pms_db.store
    with Receiver(accept) as receiver, Receiver(accept) as crm_rx:
        made = await create(http_client, base_url, url=receiver.url)
        first = add_event(store, entity_id=5, version=1)
        r = await api(http_client, base_url, "POST", f"/endpoints/{made['id']}/disable")
        assert r.code == 200
        assert (json_of(r)["data"]["enabled"], json_of(r)["data"]["disabled_reason"]) == (False, "manual")
        later = [add_event(store, entity_id=5, version=v) for v in range(2, 6)]
        assert set(statuses(store, made["id"]).values()) == {HELD}  # the pending one too
        with running_worker(delivery_settings(crm_rx.url), store):
            wait_until(lambda: set(statuses(store).values()) == {DELIVERED}, message="the CRM's copies")
            assert receiver.count() == 0
            r = await api(http_client, base_url, "POST", f"/endpoints/{made['id']}/enable")
            assert r.code == 200
            assert (json_of(r)["data"]["enabled"], json_of(r)["data"]["disabled_reason"]) == (True, None)
            wait_until(lambda: set(statuses(store, made["id"]).values()) == {DELIVERED}, message="held sent")
        versions = [e["payload"]["version"] for e in receiver.envelopes()]
    assert versions == [1, 2, 3, 4, 5] and set(receiver.hits) == {first, *later}
    actions = await audit_actions(http_client, base_url)
    assert [a for a in actions if a[1] in ("endpoint.disable", "endpoint.enable")] == [
        ("alice", "endpoint.disable", str(made["id"])),
        ("alice", "endpoint.enable", str(made["id"])),
    ]


@pytest.mark.gen_test
async def test_status_and_deliveries_of_one_endpoint(http_client, base_url, pms_db):
    made = await create(http_client, base_url, event_types=["guest.*"])
    guest = json_of(await api(http_client, base_url, "POST", "/guests", {"email": "g@example.com", "name": "G"}))[
        "data"
    ]
    other = json_of(await api(http_client, base_url, "POST", "/guests", {"email": "h@example.com", "name": "H"}))[
        "data"
    ]
    r = await api(
        http_client,
        base_url,
        "POST",
        "/reservations",
        {"guest_id": guest["id"], "check_in": "2030-01-01", "check_out": "2030-01-03"},
    )
    assert r.code == 201
    status = json_of(await api(http_client, base_url, "GET", f"/endpoints/{made['id']}/status"))["data"]
    assert status["endpoint"] == "https://loyalty.example.com/hooks"
    assert status["outbox"] == {"pending": 2, "delivering": 0, "delivered": 0, "failed": 0}
    assert status["breaker"]["state"] == "closed"
    path = f"/endpoints/{made['id']}/deliveries"
    rows = json_of(await api(http_client, base_url, "GET", path))["data"]
    assert [(d["type"], d["endpoint_id"]) for d in rows] == [("guest.created", made["id"])] * 2
    by_entity = json_of(await api(http_client, base_url, "GET", f"{path}?entity_id={other['id']}"))["data"]
    assert [d["entity_id"] for d in by_entity] == [other["id"]]
    # ?guest_id= on the CRM's deliveries: the guest's own events and its reservation's.
    crm_rows = json_of(await api(http_client, base_url, "GET", f"/endpoints/1/deliveries?guest_id={guest['id']}"))[
        "data"
    ]
    assert [d["type"] for d in crm_rows] == ["reservation.created", "guest.created"]
    future = json_of(await api(http_client, base_url, "GET", f"{path}?since=2100-01-01T00:00:00Z"))["data"]
    past = json_of(await api(http_client, base_url, "GET", f"{path}?until=2000-01-01T00:00:00Z"))["data"]
    assert future == [] and past == []
    r = await api(http_client, base_url, "GET", f"{path}?since=yesterday")
    assert r.code == 422 and json_of(r)["error"]["details"][0]["field"] == "since"
    detail = json_of(await api(http_client, base_url, "GET", f"{path}/{rows[0]['id']}"))["data"]
    assert detail["payload"]["email"] == "h@example.com" and detail["attempts"] == []


@pytest.mark.gen_test
async def test_per_endpoint_replays(http_client, base_url, pms_db):
    store = pms_db.store
    made = await create(http_client, base_url)
    ids = [add_event(store, entity_id=i) for i in range(1, 4)]
    store.call(lambda: Delivery.update(status=FAILED).where(Delivery.endpoint_id == made["id"]).execute())
    store.call(
        lambda: (
            Delivery.update(status=DELIVERED)
            .where((Delivery.endpoint_id == made["id"]) & (Delivery.event_id == ids[0]))
            .execute()
        )
    )
    path = f"/endpoints/{made['id']}/deliveries"
    r = await api(http_client, base_url, "POST", f"{path}/{ids[1]}/replay")
    assert r.code == 202 and json_of(r)["data"]["status"] == PENDING
    r = await api(http_client, base_url, "POST", f"{path}/replay")
    assert r.code == 202 and json_of(r) == {"data": {"replayed": 1}}
    assert statuses(store, made["id"]) == {ids[0]: DELIVERED, ids[1]: PENDING, ids[2]: PENDING}
    assert set(statuses(store).values()) == {PENDING}  # the CRM's were not touched
    # "since": every delivery created since then, whatever its state (a recovery).
    r = await api(http_client, base_url, "POST", f"{path}/replay", {"since": "2000-01-01T00:00:00Z"})
    assert json_of(r) == {"data": {"replayed": 3}}
    assert set(statuses(store, made["id"]).values()) == {PENDING}
    r = await api(http_client, base_url, "POST", f"{path}/replay", {"since": "soon"})
    assert r.code == 422
    r = await api(http_client, base_url, "POST", f"{path}/not-an-event/replay")
    assert r.code == 404
    actions = [a[1] for a in await audit_actions(http_client, base_url)]
    assert actions[-3:] == ["delivery.replay", "deliveries.replay_failed", "deliveries.recover"]


@pytest.mark.gen_test
async def test_ping_is_sent_now_and_answers_its_attempt(http_client, base_url, pms_db):
    with Receiver(accept) as receiver, Receiver(always(500)) as broken:
        made = await create(http_client, base_url, url=receiver.url)
        r = await api(http_client, base_url, "POST", f"/endpoints/{made['id']}/test", operator="bob")
        assert r.code == 200, r.body
        attempt = json_of(r)["data"]
        assert (attempt["status_code"], attempt["trigger"], attempt["replayed_by"]) == (202, "test", "bob")
        (request,) = receiver.received
        envelope = Webhook(made["secret"]).verify(request.body, request.headers)
        assert envelope["type"] == "endpoint.ping" and envelope["payload"]["endpoint_id"] == made["id"]
        bad = await create(http_client, base_url, name="broken", url=broken.url)
        attempt = json_of(await api(http_client, base_url, "POST", f"/endpoints/{bad['id']}/test"))["data"]
        assert (attempt["status_code"], attempt["error"]) == (500, "HTTP 500")
    # The ping went to that endpoint only and is listed among its deliveries, not retried.
    listed = json_of(await api(http_client, base_url, "GET", f"/endpoints/{bad['id']}/deliveries"))["data"]
    assert [(d["type"], d["status"]) for d in listed] == [("endpoint.ping", FAILED)]
    assert json_of(await api(http_client, base_url, "GET", "/webhooks/deliveries"))["data"] == []
    assert ("bob", "endpoint.test", str(made["id"])) in await audit_actions(http_client, base_url)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://0xa9fea9fe/x",
        "https://[fe80::1]/hook",
        "http://[::ffff:169.254.169.254]/x",
    ],
)
@pytest.mark.gen_test
async def test_a_url_to_a_metadata_or_link_local_address_is_refused(http_client, base_url, pms_db, url):
    r = await api(http_client, base_url, "POST", "/endpoints", {"name": "sneaky", "url": url})
    assert r.code == 422, r.body
    assert [d["field"] for d in json_of(r)["error"]["details"]] == ["url"]
    made = await create(http_client, base_url)
    r = await api(http_client, base_url, "PUT", f"/endpoints/{made['id']}", {"url": url})
    assert r.code == 422 and [d["field"] for d in json_of(r)["error"]["details"]] == ["url"]


@pytest.mark.gen_test
async def test_a_name_resolving_into_a_denied_network_is_refused(http_client, base_url, pms_db, app):
    app.settings["config"] = dataclasses.replace(
        app.settings["config"],
        endpoint_denied_networks=parse_networks("127.0.0.0/8,::1/128", "ENDPOINT_DENIED_NETWORKS"),
    )
    r = await api(http_client, base_url, "POST", "/endpoints", {"name": "inside", "url": "http://localhost:9/hook"})
    assert r.code == 422, r.body
    assert "localhost" in json_of(r)["error"]["details"][0]["message"]
    # A name that does not resolve (yet) is accepted: every attempt checks it again.
    assert (
        await api(http_client, base_url, "POST", "/endpoints", {"name": "later", "url": "http://not-yet.invalid/hook"})
    ).code == 201
