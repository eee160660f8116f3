"""Guests over HTTP through the real app: every route, status and error code of the guests API."""

import pytest

from pms_app.models import OutboxEvent
from tests.pms_app.helpers import create_guest, create_reservation, guest_body
from tests.support.http import call, json_of

API = "/api/v1"


def events(store):
    return store.call(
        lambda: [
            (e.type, e.entity_id, e.entity_version, e.payload) for e in OutboxEvent.select().order_by(OutboxEvent.seq)
        ]
    )


@pytest.mark.gen_test
async def test_create_returns_201_with_the_full_guest_and_writes_its_event(http_client, base_url, pms_db):
    response = await call(
        http_client,
        base_url,
        "POST",
        f"{API}/guests",
        guest_body(
            email="Ann@Example.com", name="Ann Lee", phone="+14155550100", date_of_birth="1990-04-01", country="US"
        ),
    )
    assert response.code == 201
    guest = json_of(response)["data"]
    assert set(guest) == {
        "id",
        "email",
        "name",
        "phone",
        "date_of_birth",
        "country",
        "version",
        "created_at",
        "updated_at",
    }
    assert guest["email"] == "Ann@Example.com" and guest["version"] == 1
    assert guest["created_at"].endswith("Z")
    assert events(pms_db.store) == [("guest.created", guest["id"], 1, guest)]


@pytest.mark.gen_test
async def test_get_guest_and_404s(http_client, base_url):
    guest = await create_guest(http_client, base_url)
    ok = await call(http_client, base_url, "GET", f"{API}/guests/{guest['id']}")
    assert ok.code == 200 and json_of(ok)["data"] == guest
    for path in (
        f"{API}/guests/999999",
        f"{API}/guests/abc",
        f"{API}/guests/-1",
        f"{API}/guests/1.5",
        f"{API}/guests/99999999999999999999999",
    ):
        missing = await call(http_client, base_url, "GET", path)
        assert missing.code == 404, path
        assert json_of(missing)["error"]["code"] == "not_found"


@pytest.mark.gen_test
async def test_email_is_unique_case_insensitively_on_create_and_update(http_client, base_url, pms_db):
    first = await create_guest(http_client, base_url, email="dup@example.com")
    clash = await call(http_client, base_url, "POST", f"{API}/guests", guest_body(email="DUP@example.COM"))
    assert clash.code == 409
    assert json_of(clash)["error"]["code"] == "conflict"
    other = await create_guest(http_client, base_url)
    clash = await call(http_client, base_url, "PUT", f"{API}/guests/{other['id']}", {"email": "Dup@Example.com"})
    assert clash.code == 409
    # Changing the case of one's own email is not a conflict.
    ok = await call(http_client, base_url, "PUT", f"{API}/guests/{first['id']}", {"email": "DUP@example.com"})
    assert ok.code == 200 and json_of(ok)["data"]["email"] == "DUP@example.com"
    assert [e[0] for e in events(pms_db.store)] == ["guest.created", "guest.created", "guest.updated"]


@pytest.mark.gen_test
async def test_put_is_partial_bumps_version_and_emits_update(http_client, base_url, pms_db):
    guest = await create_guest(http_client, base_url, phone="+14155550100")
    response = await call(
        http_client, base_url, "PUT", f"{API}/guests/{guest['id']}", {"name": "Renamed", "unknown": "ignored"}
    )
    assert response.code == 200
    updated = json_of(response)["data"]
    assert updated["name"] == "Renamed" and updated["phone"] == "+14155550100"
    assert updated["version"] == 2 and updated["created_at"] == guest["created_at"]
    response = await call(http_client, base_url, "PUT", f"{API}/guests/{guest['id']}", {"phone": None})
    assert json_of(response)["data"]["phone"] is None and json_of(response)["data"]["version"] == 3
    assert [(e[0], e[2]) for e in events(pms_db.store)] == [
        ("guest.created", 1),
        ("guest.updated", 2),
        ("guest.updated", 3),
    ]
    assert events(pms_db.store)[-1][3] == json_of(response)["data"]


@pytest.mark.gen_test
async def test_put_without_changes_keeps_the_version_and_emits_nothing(http_client, base_url, pms_db):
    guest = await create_guest(http_client, base_url)
    response = await call(http_client, base_url, "PUT", f"{API}/guests/{guest['id']}", {"name": guest["name"]})
    assert response.code == 200 and json_of(response)["data"]["version"] == 1
    assert len(events(pms_db.store)) == 1


@pytest.mark.gen_test
async def test_put_errors(http_client, base_url):
    guest = await create_guest(http_client, base_url)
    missing = await call(http_client, base_url, "PUT", f"{API}/guests/424242", {"name": "X"})
    assert missing.code == 404
    invalid = await call(http_client, base_url, "PUT", f"{API}/guests/{guest['id']}", {"email": "nope", "name": ""})
    assert invalid.code == 422
    assert sorted(d["field"] for d in json_of(invalid)["error"]["details"]) == ["email", "name"]


@pytest.mark.gen_test
async def test_create_422_lists_every_bad_field(http_client, base_url, pms_db):
    response = await call(
        http_client, base_url, "POST", f"{API}/guests", {"name": 7, "phone": "x", "date_of_birth": "2999-01-01"}
    )
    assert response.code == 422
    error = json_of(response)["error"]
    assert error["code"] == "validation_error"
    assert sorted(d["field"] for d in error["details"]) == ["date_of_birth", "email", "name", "phone"]
    assert events(pms_db.store) == []


@pytest.mark.gen_test
async def test_delete_guest_deletes_reservations_first_each_with_its_event(http_client, base_url, pms_db):
    guest = await create_guest(http_client, base_url)
    r1 = await create_reservation(http_client, base_url, guest["id"])
    r2 = await create_reservation(http_client, base_url, guest["id"], check_in="2027-04-01", check_out="2027-04-02")
    response = await call(http_client, base_url, "DELETE", f"{API}/guests/{guest['id']}")
    assert response.code == 204 and response.body == b""
    tail = events(pms_db.store)[-3:]
    assert [(e[0], e[1], e[2]) for e in tail] == [
        ("reservation.deleted", r1["id"], 2),
        ("reservation.deleted", r2["id"], 2),
        ("guest.deleted", guest["id"], 2),
    ]
    assert set(tail[0][3]) == {"id", "version", "deleted_at", "guest_id"}
    assert tail[0][3]["guest_id"] == guest["id"]
    assert set(tail[2][3]) == {"id", "version", "deleted_at"}
    for path in (f"/guests/{guest['id']}", f"/reservations/{r1['id']}"):
        assert (await call(http_client, base_url, "GET", API + path)).code == 404
    again = await call(http_client, base_url, "DELETE", f"{API}/guests/{guest['id']}")
    assert again.code == 404


@pytest.mark.gen_test
async def test_deleted_guest_ids_are_never_reused(http_client, base_url):
    guest = await create_guest(http_client, base_url)
    await call(http_client, base_url, "DELETE", f"{API}/guests/{guest['id']}")
    newer = await create_guest(http_client, base_url)
    assert newer["id"] > guest["id"]


@pytest.mark.gen_test
async def test_list_filters_by_email_case_insensitively(http_client, base_url):
    target = await create_guest(http_client, base_url, email="Find.Me@example.com")
    await create_guest(http_client, base_url)
    response = await call(http_client, base_url, "GET", f"{API}/guests?email=find.me@EXAMPLE.com")
    body = json_of(response)
    assert body == {"data": [target], "next_cursor": None}


@pytest.mark.gen_test
async def test_hostile_strings_are_stored_as_given(http_client, base_url):
    name = "<script>alert(1)</script>'; DROP TABLE guest; --"
    guest = await create_guest(http_client, base_url, name=name, country="🇯🇵 日本")
    fetched = json_of(await call(http_client, base_url, "GET", f"{API}/guests/{guest['id']}"))["data"]
    assert fetched["name"] == name and fetched["country"] == "🇯🇵 日本"
