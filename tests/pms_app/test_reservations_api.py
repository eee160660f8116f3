"""Reservations over HTTP through the real app."""

import pytest

from pms_app.models import OutboxEvent
from tests.pms_app.helpers import create_guest, create_reservation, reservation_body
from tests.support.http import call, json_of

API = "/api/v1"


def event_types(store):
    return store.call(lambda: [(e.type, e.entity_version) for e in OutboxEvent.select().order_by(OutboxEvent.seq)])


@pytest.mark.gen_test
async def test_create_reservation_shape_defaults_and_event(http_client, base_url, pms_db):
    guest = await create_guest(http_client, base_url)
    response = await call(
        http_client,
        base_url,
        "POST",
        f"{API}/reservations",
        {"guest_id": guest["id"], "check_in": "2027-01-10", "check_out": "2027-01-12"},
    )
    assert response.code == 201, response.body
    reservation = json_of(response)["data"]
    assert set(reservation) == {
        "id",
        "guest_id",
        "room_number",
        "room_type",
        "check_in",
        "check_out",
        "status",
        "total_amount",
        "currency",
        "adults",
        "children",
        "notes",
        "version",
        "created_at",
        "updated_at",
    }
    assert reservation["status"] == "confirmed" and reservation["total_amount"] == "0.00"
    assert reservation["adults"] == 1 and reservation["children"] == 0 and reservation["version"] == 1
    stored = pms_db.store.call(lambda: OutboxEvent.select().where(OutboxEvent.type == "reservation.created").get())
    assert stored.payload == reservation and stored.entity_id == reservation["id"]


@pytest.mark.gen_test
async def test_unknown_guest_is_a_422_on_guest_id(http_client, base_url, pms_db):
    response = await call(http_client, base_url, "POST", f"{API}/reservations", reservation_body(987654))
    assert response.code == 422
    assert json_of(response)["error"]["details"][0]["field"] == "guest_id"
    assert event_types(pms_db.store) == []


@pytest.mark.gen_test
async def test_update_cancel_and_move_reservation(http_client, base_url, pms_db):
    ann = await create_guest(http_client, base_url)
    bob = await create_guest(http_client, base_url)
    reservation = await create_reservation(http_client, base_url, ann["id"])
    response = await call(
        http_client,
        base_url,
        "PUT",
        f"{API}/reservations/{reservation['id']}",
        {"status": "cancelled", "total_amount": 99.5},
    )
    assert response.code == 200
    updated = json_of(response)["data"]
    assert updated["status"] == "cancelled" and updated["total_amount"] == "99.50" and updated["version"] == 2
    response = await call(
        http_client, base_url, "PUT", f"{API}/reservations/{reservation['id']}", {"guest_id": bob["id"]}
    )
    assert json_of(response)["data"]["guest_id"] == bob["id"] and json_of(response)["data"]["version"] == 3
    bad = await call(
        http_client, base_url, "PUT", f"{API}/reservations/{reservation['id']}", {"check_out": "2027-02-01"}
    )  # before check_in 2027-03-01
    assert bad.code == 422 and json_of(bad)["error"]["details"][0]["field"] == "check_out"
    bad = await call(http_client, base_url, "PUT", f"{API}/reservations/{reservation['id']}", {"guest_id": 555555})
    assert bad.code == 422
    assert (await call(http_client, base_url, "PUT", f"{API}/reservations/777777", {"adults": 2})).code == 404
    assert event_types(pms_db.store)[-3:] == [
        ("reservation.created", 1),
        ("reservation.updated", 2),
        ("reservation.updated", 3),
    ]


@pytest.mark.gen_test
async def test_delete_reservation_takes_the_next_version(http_client, base_url, pms_db):
    guest = await create_guest(http_client, base_url)
    reservation = await create_reservation(http_client, base_url, guest["id"])
    assert (await call(http_client, base_url, "DELETE", f"{API}/reservations/{reservation['id']}")).code == 204
    assert (await call(http_client, base_url, "GET", f"{API}/reservations/{reservation['id']}")).code == 404
    assert (await call(http_client, base_url, "DELETE", f"{API}/reservations/{reservation['id']}")).code == 404
    deleted = pms_db.store.call(lambda: OutboxEvent.select().where(OutboxEvent.type == "reservation.deleted").get())
    assert deleted.entity_version == 2
    assert deleted.payload["id"] == reservation["id"] and deleted.payload["guest_id"] == guest["id"]
    assert deleted.payload["deleted_at"].endswith("Z")


@pytest.mark.gen_test
async def test_list_filters_by_guest_and_status(http_client, base_url):
    ann = await create_guest(http_client, base_url)
    bob = await create_guest(http_client, base_url)
    a1 = await create_reservation(http_client, base_url, ann["id"])
    a2 = await create_reservation(http_client, base_url, ann["id"], status="cancelled")
    await create_reservation(http_client, base_url, bob["id"])
    body = json_of(await call(http_client, base_url, "GET", f"{API}/reservations?guest_id={ann['id']}"))
    assert [r["id"] for r in body["data"]] == [a2["id"], a1["id"]]
    body = json_of(
        await call(http_client, base_url, "GET", f"{API}/reservations?guest_id={ann['id']}&status=confirmed")
    )
    assert [r["id"] for r in body["data"]] == [a1["id"]]
    for query in ("status=unknown", "guest_id=abc", "guest_id=-3"):
        response = await call(http_client, base_url, "GET", f"{API}/reservations?{query}")
        assert response.code == 422, query
        assert json_of(response)["error"]["code"] == "validation_error"
