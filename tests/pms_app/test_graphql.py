"""The PMS's GraphQL API over HTTP: every answer equals the REST object, Relay pages walk every
item once, batch loading keeps the query count constant, limits, error shapes and auth."""

from __future__ import annotations

import dataclasses

import pytest

from core.db import utcnow
from core.graphql import limits
from pms_app.config import PmsSettings
from pms_app.models import DeliveryAttempt
from pms_app.services import guests as guest_service
from pms_app.services import reservations as reservation_service
from tests.pms_app.helpers import create_guest, create_reservation, reservation_body
from tests.support.graphql import camel, counting_queries, gql, nodes
from tests.support.http import call, json_of

GUEST_FIELDS = "id email name phone dateOfBirth country version createdAt updatedAt"
RESERVATION_FIELDS = (
    "id guestId roomNumber roomType checkIn checkOut status totalAmount currency "
    "adults children notes version createdAt updatedAt"
)
ATTEMPT_FIELDS = "attempt startedAt statusCode durationMs error responseBody trigger replayedBy"
DELIVERY_FIELDS = (
    "id seq endpointId type status entityId entityVersion attemptCount nextAttemptAt createdAt "
    f"deliveredAt lastError lastStatusCode attempts {{ {ATTEMPT_FIELDS} }}"
)


async def rest(http_client, base_url, path: str, headers=None):
    response = await call(http_client, base_url, "GET", "/api/v1" + path, headers=headers)
    assert response.code == 200, response.body
    return json_of(response)


async def rest_post(http_client, base_url, path: str, body: dict) -> dict:
    response = await call(http_client, base_url, "POST", "/api/v1" + path, body)
    assert response.code in (200, 201), response.body
    return json_of(response)["data"]


@pytest.mark.gen_test
async def test_single_objects_equal_their_rest_answer(http_client, base_url):
    guest = await create_guest(http_client, base_url, phone="+14155550100", date_of_birth="1980-02-03", country="PT")
    booking = await create_reservation(http_client, base_url, guest["id"], notes="late arrival", total_amount="99.5")
    code, body = await gql(
        http_client,
        base_url,
        f"""query ($g: Int!, $r: Int!) {{
        guest(id: $g) {{ {GUEST_FIELDS} }} reservation(id: $r) {{ {RESERVATION_FIELDS} guest {{ {GUEST_FIELDS} }} }}
        missing: guest(id: 999999) {{ id }} }}""",
        {"g": guest["id"], "r": booking["id"]},
    )
    assert code == 200 and "errors" not in body, body
    assert body["data"]["guest"] == camel((await rest(http_client, base_url, f"/guests/{guest['id']}"))["data"])
    assert body["data"]["reservation"].pop("guest") == body["data"]["guest"]
    assert body["data"]["reservation"] == camel(
        (await rest(http_client, base_url, f"/reservations/{booking['id']}"))["data"]
    )
    assert body["data"]["reservation"]["totalAmount"] == "99.50"
    assert body["data"]["missing"] is None


@pytest.mark.gen_test
async def test_lists_equal_rest_and_pages_walk_every_item_once(http_client, base_url):
    made = [await create_guest(http_client, base_url) for _ in range(7)]
    for guest in made[:3]:
        await create_reservation(http_client, base_url, guest["id"], status="cancelled")
    await create_reservation(http_client, base_url, made[0]["id"])

    seen, after, pages = [], None, 0
    while True:
        code, body = await gql(
            http_client,
            base_url,
            f"""query ($after: String) {{
            guests(first: 3, after: $after) {{ edges {{ cursor node {{ {GUEST_FIELDS} }} }}
                                              pageInfo {{ hasNextPage endCursor }} }} }}""",
            {"after": after},
        )
        assert code == 200 and "errors" not in body, body
        connection = body["data"]["guests"]
        seen += nodes(connection)
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]
    assert pages == 3
    assert seen == camel((await rest(http_client, base_url, "/guests?limit=500"))["data"])
    assert sorted(g["id"] for g in seen) == sorted(g["id"] for g in made)

    # REST's next_cursor and an edge's cursor are the same kind of cursor.
    page = await rest(http_client, base_url, "/guests?limit=2")
    code, body = await gql(
        http_client,
        base_url,
        "query ($a: String) { guests(first: 2, after: $a) { edges { node { id } } } }",
        {"a": page["next_cursor"]},
    )
    second = await rest(http_client, base_url, f"/guests?limit=2&cursor={page['next_cursor']}")
    assert [n["id"] for n in nodes(body["data"]["guests"])] == [g["id"] for g in second["data"]]

    query = f"""{{ reservations(status: "cancelled", guestId: {made[0]["id"]}) {{
                      edges {{ node {{ {RESERVATION_FIELDS} }} }} }}
                  all: reservations(first: 500) {{ edges {{ node {{ id }} }} }}
                  byEmail: guests(email: "{made[4]["email"].upper()}") {{ edges {{ node {{ id }} }} }} }}"""
    code, body = await gql(http_client, base_url, query)
    assert code == 200 and "errors" not in body, body
    assert nodes(body["data"]["reservations"]) == camel(
        (await rest(http_client, base_url, f"/reservations?status=cancelled&guest_id={made[0]['id']}"))["data"]
    )
    assert len(nodes(body["data"]["all"])) == 4
    assert nodes(body["data"]["byEmail"]) == [{"id": made[4]["id"]}]


@pytest.mark.gen_test
async def test_guest_reservations_page_like_the_filtered_rest_list(http_client, base_url):
    guest = await create_guest(http_client, base_url)
    other = await create_guest(http_client, base_url)
    for _ in range(5):
        await create_reservation(http_client, base_url, guest["id"])
    await create_reservation(http_client, base_url, other["id"])
    expected = camel((await rest(http_client, base_url, f"/reservations?guest_id={guest['id']}"))["data"])
    seen, after = [], None
    while True:
        code, body = await gql(
            http_client,
            base_url,
            f"""query ($id: Int!, $after: String) {{ guest(id: $id) {{
            reservations(first: 2, after: $after) {{ edges {{ node {{ {RESERVATION_FIELDS} }} }}
                                                     pageInfo {{ hasNextPage endCursor }} }} }} }}""",
            {"id": guest["id"], "after": after},
        )
        assert code == 200 and "errors" not in body, body
        connection = body["data"]["guest"]["reservations"]
        seen += nodes(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == expected and len(seen) == 5


def _seed_guests(store, count: int) -> None:
    def seed():
        for n in range(count):
            guest = guest_service.create_guest({"email": f"bulk{n}@example.com", "name": f"Bulk {n}"})
            for _ in range(2):
                values = reservation_body(guest["id"])
                reservation_service.create_reservation(values)

    store.call(seed)


@pytest.mark.gen_test(timeout=60)
async def test_nested_lists_cost_a_constant_number_of_queries(http_client, base_url, pms_db):
    query = """query ($n: Int!) { guests(first: $n) { edges { node { id
        reservations(first: 5) { edges { node { id guestId } } } } } }
        deliveries(first: $n) { edges { node { id attempts { attempt } } } } }"""
    _seed_guests(pms_db.store, 100)

    async def queries_for(n: int) -> tuple[int, dict]:
        with counting_queries(pms_db.database) as counted:
            code, body = await gql(http_client, base_url, query, {"n": n})
        assert code == 200 and "errors" not in body, body
        return counted["n"], body

    few, _ = await queries_for(2)
    many, body = await queries_for(100)
    guests = nodes(body["data"]["guests"])
    assert len(guests) == 100 and all(len(nodes(g["reservations"])) == 2 for g in guests)
    assert all(r["guestId"] == g["id"] for g in guests for r in nodes(g["reservations"]))
    assert len(nodes(body["data"]["deliveries"])) == 100
    assert many == few <= 6


@pytest.mark.gen_test
async def test_deliveries_and_attempts_equal_rest(http_client, base_url, pms_db):
    guest = await create_guest(http_client, base_url)
    await create_reservation(http_client, base_url, guest["id"])
    listed = (await rest(http_client, base_url, "/webhooks/deliveries"))["data"]
    target, target_seq = listed[-1]["id"], listed[-1]["seq"]
    pms_db.store.call(
        lambda: [
            DeliveryAttempt.create(
                event_id=target,
                delivery_id=target_seq,
                attempt=n,
                started_at=utcnow(),
                status_code=503,
                duration_ms=12,
                error="HTTP 503",
                response_body="busy",
            )
            for n in (1, 2)
        ]
    )
    code, body = await gql(
        http_client,
        base_url,
        f"""{{
        deliveries {{ edges {{ cursor node {{ {DELIVERY_FIELDS} }} }} }}
        created: deliveries(type: "reservation.created", status: "pending") {{ edges {{ node {{ id }} }} }} }}""",
    )
    assert code == 200 and "errors" not in body, body
    got = nodes(body["data"]["deliveries"])
    assert [d["id"] for d in got] == [d["id"] for d in listed]
    for delivery in got:
        detail = (await rest(http_client, base_url, f"/webhooks/deliveries/{delivery['id']}"))["data"]
        for rest_only in ("payload", "request", "destinations"):
            detail.pop(rest_only)
        for attempt in detail["attempts"]:
            attempt.pop("target_url"), attempt.pop("request_headers")
        assert delivery == camel(detail)
    assert len(got[-1]["attempts"]) == 2
    assert [d["id"] for d in nodes(body["data"]["created"])] == [listed[0]["id"]]


@pytest.mark.gen_test
async def test_endpoints_equal_rest_and_deliveries_take_an_endpoint(http_client, base_url, pms_db):
    made = await rest_post(
        http_client,
        base_url,
        "/endpoints",
        {"name": "warehouse", "url": "http://127.0.0.1:9/x", "event_types": ["guest.*"]},
    )
    await create_guest(http_client, base_url)
    code, body = await gql(
        http_client,
        base_url,
        """query ($warehouse: Int!) {
        endpoints { id name url eventTypes enabled maxInFlight
        breaker { failureThreshold recoverySeconds } secrets { id prefix createdAt expiresAt } }
        warehouse: deliveries(endpointId: $warehouse) { edges { node { id endpointId type } } } }""",
        {"warehouse": made["id"]},
    )
    assert code == 200 and "errors" not in body, body
    listed = (await rest(http_client, base_url, "/endpoints"))["data"]
    assert [e["name"] for e in body["data"]["endpoints"]] == [e["name"] for e in listed] == ["crm", "warehouse"]
    mine = body["data"]["endpoints"][1]
    assert mine["secrets"] == camel(listed[1]["secrets"]) and mine["eventTypes"] == ["guest.*"]
    assert [(d["endpointId"], d["type"]) for d in nodes(body["data"]["warehouse"])] == [(made["id"], "guest.created")]


@pytest.mark.gen_test
async def test_request_errors_are_400_in_the_graphql_shape(http_client, base_url):
    cases = {
        "{ guests { edges { node { id } }": "graphql_parse_failed",
        "{ guests { edges { node { nope } } } }": "graphql_validation_failed",
        "{ guests(first: 501) { edges { node { id } } } }": "validation_error",
        "subscription { nothing }": "graphql_validation_failed",
    }
    for query, code_ in cases.items():
        code, body = await gql(http_client, base_url, query)
        assert code == 400, (query, body)
        assert set(body) == {"errors"}
        error = body["errors"][0]
        assert error["extensions"]["code"] == code_ and error["message"] and "path" in error, body
        assert error["extensions"]["request_id"]
    code, body = await gql(
        http_client, base_url, "query ($n: Int!) { guests(first: $n) { edges { cursor } } }", {"n": "ten"}
    )
    assert code == 400 and body["errors"][0]["extensions"]["code"] == "validation_error"
    for raw, code_ in ((b"{", "invalid_json"), (b'{"query": 3}', "bad_request"), (b"[]", "invalid_json")):
        response = await call(
            http_client, base_url, "POST", "/api/v1/graphql", raw=raw, headers={"Content-Type": "application/json"}
        )
        assert response.code == 400 and json_of(response)["errors"][0]["extensions"]["code"] == code_


@pytest.mark.gen_test
async def test_field_errors_have_a_path_and_the_rest_code(http_client, base_url):
    await create_guest(http_client, base_url)
    code, body = await gql(
        http_client,
        base_url,
        """{ guests { edges { node { id } } }
        broken: guests(after: "not-a-cursor") { edges { node { id } } }
        badStatus: reservations(status: "lost") { edges { node { id } } } }""",
    )
    assert code == 200
    assert len(nodes(body["data"]["guests"])) == 1 and body["data"]["broken"] is None
    errors = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert errors == {("broken",): "validation_error", ("badStatus",): "validation_error"}


@pytest.mark.gen_test
async def test_depth_and_cost_are_refused_before_running(http_client, base_url, pms_db):
    guest = await create_guest(http_client, base_url)
    await create_reservation(http_client, base_url, guest["id"])
    ten = (
        "{ guests(first: 5) { edges { node { reservations(first: 5) { edges { node { guest { "
        "reservations(first: 5) { edges { cursor } } } } } } } } } }"
    )
    code, body = await gql(http_client, base_url, ten)
    assert code == 200 and "errors" not in body, body
    assert nodes(nodes(body["data"]["guests"])[0]["reservations"])[0]["guest"]["reservations"]["edges"]
    eleven = ten.replace("cursor", "node { id }")
    via_fragment = (
        "{ ...G } fragment G on Query { guests(first: 5) { edges { node { reservations(first: 5) "
        "{ edges { node { guest { ...R } } } } } } } } fragment R on Guest { reservations(first: 5) "
        "{ edges { node { id } } } }"
    )
    introspection = (
        "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { "
        "ofType { ofType { ofType { name } } } } } } } } } } } } }"
    )
    code, body = await gql(http_client, base_url, introspection)
    assert code == 200 and "errors" not in body  # introspection is not counted

    with counting_queries(pms_db.database) as counted:
        for query in (eleven, via_fragment):
            code, body = await gql(http_client, base_url, query)
            assert code == 400 and body["errors"][0]["extensions"]["code"] == "query_too_deep", body
            assert "11 levels" in body["errors"][0]["message"]
        code, body = await gql(
            http_client,
            base_url,
            """{ guests(first: 500) { edges { node {
            reservations(first: 500) { edges { node { id } } } } } } }""",
        )
        assert code == 400 and body["errors"][0]["extensions"]["code"] == "query_too_costly"
        assert f"{limits.MAX_COST:,}".replace(",", "") in body["errors"][0]["message"]
        code, body = await gql(
            http_client,
            base_url,
            """query ($n: Int) { guests(first: $n) { edges { node {
            reservations(first: 100) { edges { node { id } } } } } } }""",
            {"n": 500},
        )
        assert code == 400 and body["errors"][0]["extensions"]["code"] == "query_too_costly"
    assert counted["n"] == 0  # refused before any database work
    code, body = await gql(
        http_client,
        base_url,
        """{ guests(first: 500) { edges { node {
        reservations(first: 40) { edges { node { id } } } } } } }""",
    )
    assert code == 200 and "errors" not in body, body


class TestAuth:
    @pytest.fixture
    def pms_settings(self):
        return dataclasses.replace(PmsSettings(), api_token="gql-token")

    @pytest.mark.gen_test
    async def test_token_required_and_errors_in_graphql_shape(self, http_client, base_url):
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            code, body = await gql(http_client, base_url, "{ guests { edges { cursor } } }", headers=headers)
            assert code == 401
            assert body["errors"][0]["extensions"]["code"] == "unauthorized" and "path" in body["errors"][0]
        code, body = await gql(
            http_client, base_url, "{ guests { edges { cursor } } }", headers={"Authorization": "Bearer gql-token"}
        )
        assert code == 200 and body == {"data": {"guests": {"edges": []}}}
