"""The API conventions on the PMS: errors, body limits, auth, request ids, pagination, health."""

import asyncio

import pytest

from core.db import Store, open_database
from pms_app.app import make_app
from pms_app.config import PmsSettings
from pms_app.services import guests as guest_service
from tests.pms_app.helpers import create_guest, guest_body
from tests.support.http import call, json_of

API = "/api/v1"


@pytest.mark.gen_test
async def test_malformed_json_is_400_invalid_json(http_client, base_url):
    cases = [b"{not json", b"", b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"a": NaN}', b"[" * 100000]
    for raw in cases:
        response = await call(
            http_client, base_url, "POST", f"{API}/guests", raw=raw, headers={"Content-Type": "application/json"}
        )
        assert response.code == 400, raw[:20]
        assert json_of(response)["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E400"])
@pytest.mark.parametrize("path, method", [("/guests", "POST"), ("/reservations", "POST"), ("/guests/1", "PUT")])
@pytest.mark.gen_test
async def test_a_number_that_overflows_to_infinity_is_invalid_json(http_client, base_url, number, path, method):
    await create_guest(http_client, base_url)
    raw = b'{"email": "inf@example.com", "name": "Inf", "total_amount": %s, "extra": %s}' % (
        number.encode(),
        number.encode(),
    )
    response = await call(
        http_client, base_url, method, API + path, raw=raw, headers={"Content-Type": "application/json"}
    )
    assert response.code == 400, response.body
    assert json_of(response)["error"]["code"] == "invalid_json"


@pytest.mark.gen_test
async def test_non_json_content_type_is_415(http_client, base_url):
    response = await call(
        http_client,
        base_url,
        "POST",
        f"{API}/guests",
        raw=b"email=a@b.co",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.code == 415
    assert json_of(response)["error"]["code"] == "unsupported_media_type"


@pytest.mark.gen_test
async def test_huge_body_is_413_before_it_is_read(http_client, base_url):
    raw = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = await call(
        http_client, base_url, "POST", f"{API}/guests", raw=raw, headers={"Content-Type": "application/json"}
    )
    assert response.code == 413
    assert json_of(response)["error"]["code"] == "payload_too_large"


@pytest.mark.gen_test
async def test_unknown_route_and_wrong_method_are_json(http_client, base_url):
    response = await call(http_client, base_url, "GET", f"{API}/nothing-here")
    assert response.code == 404 and json_of(response)["error"]["code"] == "not_found"
    response = await call(http_client, base_url, "PATCH", f"{API}/guests", {"x": 1})
    assert response.code == 405 and json_of(response)["error"]["code"] == "method_not_allowed"


@pytest.mark.gen_test
async def test_internal_errors_never_leak_a_stack_trace(http_client, base_url, monkeypatch):
    def boom(*_args):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(guest_service, "get_guest", boom)
    response = await call(http_client, base_url, "GET", f"{API}/guests/1")
    assert response.code == 500
    error = json_of(response)["error"]
    assert error["code"] == "internal_error"
    assert b"Traceback" not in response.body and b"hunter2" not in response.body
    assert response.headers["X-Request-ID"] in error["message"]


@pytest.mark.gen_test
async def test_request_id_is_echoed_or_generated(http_client, base_url):
    response = await call(http_client, base_url, "GET", f"{API}/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    response = await call(http_client, base_url, "GET", f"{API}/guests/0")
    assert len(response.headers["X-Request-ID"]) == 32
    response = await call(
        http_client, base_url, "GET", f"{API}/health", headers={"X-Request-ID": "bad id\twith spaces"}
    )
    assert response.headers["X-Request-ID"] != "bad id\twith spaces"


@pytest.mark.gen_test
async def test_health_and_metrics(http_client, base_url):
    response = await call(http_client, base_url, "GET", f"{API}/health")
    assert response.code == 200
    assert json_of(response) == {"status": "ok", "service": "pms", "database": "ok"}
    response = await call(http_client, base_url, "GET", "/metrics")
    assert response.code == 200 and b"http_requests_total" in response.body


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 50])
@pytest.mark.gen_test
async def test_pagination_walks_every_row_once(http_client, base_url, page_size):
    created = [(await create_guest(http_client, base_url))["id"] for _ in range(10)]
    seen, cursor = [], None
    while True:
        path = f"{API}/guests?limit={page_size}" + (f"&cursor={cursor}" if cursor else "")
        body = json_of(await call(http_client, base_url, "GET", path))
        assert len(body["data"]) <= page_size
        seen += [g["id"] for g in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)


@pytest.mark.gen_test
async def test_since_id_tails_ascending_and_pages(http_client, base_url):
    ids = [(await create_guest(http_client, base_url))["id"] for _ in range(5)]
    body = json_of(await call(http_client, base_url, "GET", f"{API}/guests?since_id={ids[1]}&limit=2"))
    assert [g["id"] for g in body["data"]] == ids[2:4]
    body = json_of(await call(http_client, base_url, "GET", f"{API}/guests?cursor={body['next_cursor']}&limit=2"))
    assert [g["id"] for g in body["data"]] == ids[4:] and body["next_cursor"] is None


@pytest.mark.gen_test
async def test_limit_rules(http_client, base_url):
    for _ in range(3):
        await create_guest(http_client, base_url)
    body = json_of(await call(http_client, base_url, "GET", f"{API}/guests?limit=100000"))
    assert len(body["data"]) == 3
    for query in ("limit=abc", "limit=-1", "limit=0", "cursor=garbage!", "since_id=x"):
        response = await call(http_client, base_url, "GET", f"{API}/guests?{query}")
        assert response.code == 422, query
        assert json_of(response)["error"]["code"] == "validation_error"


@pytest.mark.gen_test
async def test_concurrent_requests_do_not_share_a_transaction(http_client, base_url, pms_db):
    """Half the concurrent creates conflict and roll back; the other half must all commit."""
    await create_guest(http_client, base_url, email="taken@example.com")
    bodies = [guest_body(email="taken@example.com") if i % 2 else guest_body() for i in range(16)]
    responses = await asyncio.gather(*[call(http_client, base_url, "POST", f"{API}/guests", b) for b in bodies])
    assert sorted(r.code for r in responses) == [201] * 8 + [409] * 8
    listed = json_of(await call(http_client, base_url, "GET", f"{API}/guests?limit=500"))["data"]
    assert len(listed) == 9


@pytest.mark.gen_test
async def test_concurrent_updates_of_one_guest_get_distinct_versions(http_client, base_url, pms_db):
    from pms_app.models import OutboxEvent

    guest = await create_guest(http_client, base_url)
    responses = await asyncio.gather(
        *[call(http_client, base_url, "PUT", f"{API}/guests/{guest['id']}", {"name": f"Name {i}"}) for i in range(10)]
    )
    assert all(r.code == 200 for r in responses)
    versions = sorted(json_of(r)["data"]["version"] for r in responses)
    assert versions == list(range(2, 12))
    event_versions = pms_db.store.call(
        lambda: sorted(e.entity_version for e in OutboxEvent.select().where(OutboxEvent.type == "guest.updated"))
    )
    assert event_versions == versions


class TestAuth:
    @pytest.fixture
    def pms_settings(self):
        return PmsSettings(api_token="s3cret-token")

    @pytest.mark.gen_test
    async def test_api_token_required_except_health_and_metrics(self, http_client, base_url):
        response = await call(http_client, base_url, "GET", f"{API}/guests")
        assert response.code == 401
        assert json_of(response)["error"]["code"] == "unauthorized"
        assert b"s3cret" not in response.body
        wrong = await call(http_client, base_url, "GET", f"{API}/guests", headers={"Authorization": "Bearer nope"})
        assert wrong.code == 401
        ok = await call(http_client, base_url, "GET", f"{API}/guests", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.code == 200
        assert (await call(http_client, base_url, "GET", f"{API}/health")).code == 200
        assert (await call(http_client, base_url, "GET", "/metrics")).code == 200


class TestDatabaseDown:
    @pytest.fixture
    def app(self, pms_settings):
        # Nothing listens on port 1: every connection attempt is refused at once.
        store = Store(open_database("mysql://root@127.0.0.1:1/none"), max_workers=2, name="down")
        yield make_app(pms_settings, store=store)
        store.close()

    @pytest.mark.gen_test
    async def test_health_is_503_and_api_503_while_database_is_down(self, http_client, base_url):
        response = await call(http_client, base_url, "GET", f"{API}/health")
        assert response.code == 503
        assert json_of(response)["database"] == "unavailable"
        response = await call(http_client, base_url, "GET", f"{API}/guests")
        assert response.code == 503
        assert json_of(response)["error"]["code"] == "service_unavailable"


@pytest.mark.gen_test
async def test_unpaired_surrogate_escape_is_invalid_json(http_client, base_url, pms_db):
    for raw in (
        b'{"email": "s@example.com", "name": "\\ud800"}',
        b'{"email": "s@example.com", "name": "A", "\\udc00": 1}',
    ):
        response = await call(
            http_client, base_url, "POST", f"{API}/guests", raw=raw, headers={"Content-Type": "application/json"}
        )
        assert response.code == 400, response.body
        assert json_of(response)["error"]["code"] == "invalid_json"
    paired = await call(
        http_client,
        base_url,
        "POST",
        f"{API}/guests",
        raw=b'{"email": "s@example.com", "name": "\\ud83d\\ude00"}',
        headers={"Content-Type": "application/json"},
    )
    assert paired.code == 201 and json_of(paired)["data"]["name"] == "\U0001f600"


@pytest.mark.gen_test
async def test_huge_integers_in_the_query_are_clamped_not_refused(http_client, base_url):
    await create_guest(http_client, base_url)
    huge = "9" * 40
    body = json_of(await call(http_client, base_url, "GET", f"{API}/guests?limit={huge}"))
    assert len(body["data"]) == 1
    for query in (f"/guests?since_id={huge}", f"/reservations?guest_id={huge}"):
        response = await call(http_client, base_url, "GET", API + query)
        assert response.code == 200, query
        assert json_of(response) == {"data": [], "next_cursor": None}


@pytest.mark.gen_test
async def test_query_arguments_that_are_not_utf8_are_a_422_on_that_field(http_client, base_url):
    response = await call(http_client, base_url, "GET", f"{API}/guests?email=%ED%A0%80")
    assert response.code == 422
    assert json_of(response)["error"]["details"] == [{"field": "email", "message": "must be valid UTF-8 text"}]


@pytest.mark.gen_test
async def test_metrics_carry_a_request_id_too(http_client, base_url):
    response = await call(http_client, base_url, "GET", "/metrics", headers={"X-Request-ID": "scrape-1"})
    assert response.code == 200 and response.headers["X-Request-ID"] == "scrape-1"
