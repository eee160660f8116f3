"""The CRM's GraphQL queries over HTTP: every answer equals the REST object, Relay pages walk
every item once, a profile's events are batch-loaded (constant query count), errors and auth."""

from __future__ import annotations

import dataclasses
import json

import pytest

from crm_app.services.receiver import receive_batch
from tests.crm_app.webhook_factory import PLAIN_SECRET, guest, incoming, reservation, signed_request, envelope
from tests.support.graphql import camel, counting_queries, gql, nodes
from tests.support.http import call, json_of

STATS = (
    "totalReservations activeReservations cancelledReservations totalNights averageNights "
    "lifetimeValue firstCheckIn lastCheckOut nextCheckIn"
)
PROFILE = f"guestId email name phone dateOfBirth country version stats {{ {STATS} }} tier sources updatedAt"
EVENT = "id webhookId type status entityId entityVersion occurredAt receivedAt payload"


async def rest(http_client, base_url, path: str):
    response = await call(http_client, base_url, "GET", "/api/v1" + path)
    assert response.code == 200, response.body
    return json_of(response)


@pytest.mark.gen_test
async def test_profiles_and_their_events_equal_rest(sender, http_client, base_url):
    await sender.send_ok("guest.created", guest(1))
    await sender.send_ok("reservation.created", reservation(10, 1, total_amount="120.50"))
    await sender.send_ok("reservation.created", reservation(11, 1, status="cancelled"))
    await sender.send_ok("guest.created", guest(2, name="Ana Lima"))
    await sender.send_ok("guest.updated", guest(2, version=1, name="stale copy"))

    code, body = await gql(
        http_client,
        base_url,
        f"""{{
        one: guestProfile(guestId: 1) {{ {PROFILE} events {{ edges {{ node {{ {EVENT} }} }} }} }}
        none: guestProfile(guestId: 99) {{ guestId }}
        all: guestProfiles {{ edges {{ node {{ {PROFILE} }} }} pageInfo {{ hasNextPage endCursor }} }}
        found: guestProfiles(q: "ana", tier: "new") {{ edges {{ node {{ guestId }} }} }} }}""",
    )
    assert code == 200 and "errors" not in body, body
    data = body["data"]
    one = data["one"]
    events = one.pop("events")
    assert one == camel((await rest(http_client, base_url, "/guest-profiles/1"))["data"])
    assert one["stats"]["lifetimeValue"] == {"USD": "120.50"}
    assert nodes(events) == camel((await rest(http_client, base_url, "/events?guest_id=1"))["data"])
    assert len(nodes(events)) == 3
    assert data["none"] is None
    assert nodes(data["all"]) == camel((await rest(http_client, base_url, "/guest-profiles"))["data"])
    assert data["all"]["pageInfo"] == {"hasNextPage": False, "endCursor": data["all"]["pageInfo"]["endCursor"]}
    assert nodes(data["found"]) == [{"guestId": 2}]


@pytest.mark.gen_test
async def test_events_pages_walk_every_event_once_and_equal_rest(sender, http_client, base_url):
    for n in range(1, 8):
        await sender.send_ok("guest.created", guest(n))
    await sender.send_ok("loyalty.points", {"id": 1})
    seen, after = [], None
    while True:
        code, body = await gql(
            http_client,
            base_url,
            f"""query ($after: String) {{
            events(first: 3, after: $after) {{ edges {{ node {{ {EVENT} }} }}
                                                pageInfo {{ hasNextPage endCursor }} }} }}""",
            {"after": after},
        )
        assert code == 200 and "errors" not in body, body
        seen += nodes(body["data"]["events"])
        if not body["data"]["events"]["pageInfo"]["hasNextPage"]:
            break
        after = body["data"]["events"]["pageInfo"]["endCursor"]
    listed = (await rest(http_client, base_url, "/events?limit=500"))["data"]
    assert seen == camel(listed) and len({e["id"] for e in seen}) == 8
    code, body = await gql(
        http_client,
        base_url,
        f"""query ($id: Int!) {{ event(id: $id) {{ {EVENT} }}
        ignored: events(status: "ignored") {{ edges {{ node {{ type }} }} }}
        of3: events(entityId: 3, type: "guest.created") {{ edges {{ node {{ entityId }} }} }}
        none: event(id: 0) {{ id }} }}""",
        {"id": listed[3]["id"]},
    )
    assert code == 200 and "errors" not in body, body
    assert body["data"]["event"] == camel((await rest(http_client, base_url, f"/events/{listed[3]['id']}"))["data"])
    assert nodes(body["data"]["ignored"]) == [{"type": "loyalty.points"}]
    assert nodes(body["data"]["of3"]) == [{"entityId": 3}]
    assert body["data"]["none"] is None


@pytest.mark.gen_test
async def test_rejections_equal_rest(sender, http_client, base_url):
    for _ in range(3):
        webhook_id, body = envelope("guest.created", guest(1))
        raw = json.dumps(body).encode()
        await sender.post_raw(raw, signed_request(raw, webhook_id, secrets=(PLAIN_SECRET,)))
    await sender.post_raw(b"{}", {"Content-Type": "application/json"})
    code, body = await gql(
        http_client,
        base_url,
        """{ all: rejections(first: 2) { edges { node {
        id reason remoteIp receivedAt webhookId } } pageInfo { hasNextPage } }
        missing: rejections(reason: "missing_header") { edges { node { reason } } } }""",
    )
    assert code == 200 and "errors" not in body, body
    first_page = await rest(http_client, base_url, "/webhooks/rejections?limit=2")
    assert nodes(body["data"]["all"]) == camel(first_page["data"])
    assert body["data"]["all"]["pageInfo"]["hasNextPage"] is True
    assert nodes(body["data"]["missing"]) == [{"reason": "missing_header"}]


@pytest.mark.gen_test(timeout=60)
async def test_profile_events_cost_a_constant_number_of_queries(http_client, base_url, crm_db):
    batch = []
    for n in range(1, 101):
        batch += [incoming("guest.created", guest(n)), incoming("reservation.created", reservation(n, n))]
    assert all(not isinstance(r, Exception) for r in crm_db.store.call(receive_batch, batch, transaction=False))
    query = """query ($n: Int!) { guestProfiles(first: $n) { edges { node { guestId
        events(first: 5) { edges { node { id type } } } } } } }"""

    async def queries_for(n: int) -> tuple[int, dict]:
        with counting_queries(crm_db.database) as counted:
            code, body = await gql(http_client, base_url, query, {"n": n})
        assert code == 200 and "errors" not in body, body
        return counted["n"], body

    few, _ = await queries_for(2)
    many, body = await queries_for(100)
    profiles = nodes(body["data"]["guestProfiles"])
    assert len(profiles) == 100
    assert all([e["type"] for e in nodes(p["events"])] == ["reservation.created", "guest.created"] for p in profiles)
    assert many == few <= 6


@pytest.mark.gen_test
async def test_errors_and_limits(http_client, base_url):
    code, body = await gql(http_client, base_url, "{ events { edges { node { nope } } } }")
    assert code == 400 and body["errors"][0]["extensions"]["code"] == "graphql_validation_failed"
    code, body = await gql(http_client, base_url, "{ events(first: 600) { edges { cursor } } }")
    assert code == 400 and body["errors"][0]["extensions"]["code"] == "validation_error"
    code, body = await gql(
        http_client,
        base_url,
        """{ guestProfiles(first: 500) { edges { node {
        events(first: 500) { edges { cursor } } } } } }""",
    )
    assert code == 400 and body["errors"][0]["extensions"]["code"] == "query_too_costly"
    code, body = await gql(http_client, base_url, "subscription { eventRecorded { id } }")
    assert code == 400 and body["errors"][0]["extensions"]["code"] == "bad_request"
    code, body = await gql(
        http_client,
        base_url,
        """{ events(status: "done") { edges { cursor } }
        guestProfiles(tier: "gold") { edges { cursor } } ok: events { edges { cursor } } }""",
    )
    assert code == 200 and body["data"] == {"events": None, "guestProfiles": None, "ok": {"edges": []}}
    assert {e["path"][0]: e["extensions"]["code"] for e in body["errors"]} == {
        "events": "validation_error",
        "guestProfiles": "validation_error",
    }
    assert all(e["extensions"]["details"][0]["field"] in ("status", "tier") for e in body["errors"])


class TestAuth:
    @pytest.fixture
    def crm_settings(self, crm_settings):
        return dataclasses.replace(crm_settings, api_token="crm-gql-token")

    @pytest.mark.gen_test
    async def test_token_required(self, http_client, base_url):
        code, body = await gql(http_client, base_url, "{ events { edges { cursor } } }")
        assert code == 401 and body["errors"][0]["extensions"]["code"] == "unauthorized"
        code, body = await gql(
            http_client, base_url, "{ events { edges { cursor } } }", headers={"Authorization": "Bearer crm-gql-token"}
        )
        assert code == 200 and body == {"data": {"events": {"edges": []}}}
