"""Guest profiles through the real app: stats against hand-computed values, convergence cases,
erasure, and the list filters with keyset pagination."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.crm_app.webhook_factory import deleted, guest, reservation
from tests.support.http import call, json_of

TODAY = dt.datetime.now(dt.UTC).date()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


async def profile(http_client, base_url, guest_id: int):
    return await call(http_client, base_url, "GET", f"/api/v1/guest-profiles/{guest_id}")


async def stats(http_client, base_url, guest_id: int) -> dict:
    response = await profile(http_client, base_url, guest_id)
    assert response.code == 200, response.body
    return json_of(response)["data"]["stats"]


async def listed(http_client, base_url, query: str = "") -> list[dict]:
    response = await call(http_client, base_url, "GET", f"/api/v1/guest-profiles{query}")
    assert response.code == 200, response.body
    return json_of(response)["data"]


@pytest.mark.gen_test
async def test_profile_shape_and_hand_computed_stats(sender, http_client, base_url):
    await sender.send_ok("guest.created", guest(1, email="Ann@Example.com", name="Ann Lee"))
    await sender.send_ok(
        "reservation.created",
        reservation(1, 1, check_in="2026-01-10", check_out="2026-01-13", total_amount="300.00", currency="USD"),
    )
    await sender.send_ok(
        "reservation.created",
        reservation(2, 1, check_in=day(5), check_out=day(9), total_amount="480.00", currency="USD"),
    )
    await sender.send_ok(
        "reservation.created",
        reservation(
            3, 1, check_in=day(-1), check_out=day(2), status="checked_in", total_amount="200.50", currency="EUR"
        ),
    )
    await sender.send_ok(
        "reservation.created",
        reservation(4, 1, check_in=day(20), check_out=day(24), status="cancelled", total_amount="100.00"),
    )

    body = json_of(await profile(http_client, base_url, 1))["data"]
    assert set(body) == {
        "guest_id",
        "email",
        "name",
        "phone",
        "date_of_birth",
        "country",
        "version",
        "stats",
        "tier",
        "sources",
        "updated_at",
    }
    assert (body["guest_id"], body["email"], body["name"], body["version"], body["sources"]) == (
        1,
        "Ann@Example.com",
        "Ann Lee",
        1,
        ["pms"],
    )
    assert body["updated_at"].endswith("Z")
    assert body["stats"] == {
        "total_reservations": 3,
        "active_reservations": 2,
        "cancelled_reservations": 1,
        "total_nights": 10,
        "average_nights": 3.33,
        "lifetime_value": {"EUR": "200.50", "USD": "780.00"},
        "first_check_in": "2026-01-10",
        "last_check_out": day(9),
        "next_check_in": day(5),
    }
    assert body["tier"] == "returning"

    # Cancelling the future stay: it leaves every non-cancelled stat.
    await sender.send_ok(
        "reservation.updated",
        reservation(2, 1, version=2, check_in=day(5), check_out=day(9), status="cancelled", total_amount="480.00"),
    )
    assert await stats(http_client, base_url, 1) == {
        "total_reservations": 2,
        "active_reservations": 1,
        "cancelled_reservations": 2,
        "total_nights": 6,
        "average_nights": 3.0,
        "lifetime_value": {"EUR": "200.50", "USD": "300.00"},
        "first_check_in": "2026-01-10",
        "last_check_out": day(2),
        "next_check_in": None,
    }

    # Deleting the current stay.
    await sender.send_ok("reservation.deleted", deleted(3, 2, guest_id=1))
    body = json_of(await profile(http_client, base_url, 1))["data"]
    assert body["stats"] == {
        "total_reservations": 1,
        "active_reservations": 0,
        "cancelled_reservations": 2,
        "total_nights": 3,
        "average_nights": 3.0,
        "lifetime_value": {"USD": "300.00"},
        "first_check_in": "2026-01-10",
        "last_check_out": "2026-01-13",
        "next_check_in": None,
    }
    assert body["tier"] == "new"


@pytest.mark.gen_test
async def test_a_guest_with_no_reservations_has_zero_stats(sender, http_client, base_url):
    await sender.send_ok("guest.created", guest(2))
    assert await stats(http_client, base_url, 2) == {
        "total_reservations": 0,
        "active_reservations": 0,
        "cancelled_reservations": 0,
        "total_nights": 0,
        "average_nights": 0,
        "lifetime_value": {},
        "first_check_in": None,
        "last_check_out": None,
        "next_check_in": None,
    }


@pytest.mark.gen_test
async def test_vip_from_thirty_nights_or_ten_stays(sender, http_client, base_url):
    await sender.send_ok("guest.created", guest(1))
    await sender.send_ok("reservation.created", reservation(1, 1, check_in="2025-01-01", check_out="2025-01-31"))
    assert json_of(await profile(http_client, base_url, 1))["data"]["tier"] == "vip"
    for i in range(10):
        await sender.send_ok(
            "reservation.created", reservation(10 + i, 2, check_in="2025-05-01", check_out="2025-05-02")
        )
    body = json_of(await profile(http_client, base_url, 2))["data"]
    assert (body["tier"], body["stats"]["total_reservations"], body["stats"]["total_nights"]) == ("vip", 10, 10)
    await sender.send_ok(
        "reservation.updated",
        reservation(19, 2, version=2, status="cancelled", check_in="2025-05-01", check_out="2025-05-02"),
    )
    assert json_of(await profile(http_client, base_url, 2))["data"]["tier"] == "returning"


@pytest.mark.gen_test
async def test_reservation_before_its_guest_creates_the_profile_then_identity_fills_in(sender, http_client, base_url):
    await sender.send_ok("reservation.created", reservation(1, 7, check_in="2026-01-01", check_out="2026-01-04"))
    body = json_of(await profile(http_client, base_url, 7))["data"]
    assert (body["email"], body["name"], body["version"]) == (None, None, None)
    assert body["stats"]["total_nights"] == 3
    await sender.send_ok("guest.created", guest(7, name="Late Identity"))
    body = json_of(await profile(http_client, base_url, 7))["data"]
    assert (body["name"], body["version"], body["stats"]["total_nights"]) == ("Late Identity", 1, 3)


@pytest.mark.gen_test
async def test_older_versions_are_stale_and_change_nothing(sender, http_client, base_url):
    await sender.send_ok("guest.created", guest(1))
    assert (await sender.send_ok("guest.updated", guest(1, version=3, name="Third")))["status"] == "accepted"
    assert (await sender.send_ok("guest.updated", guest(1, version=2, name="Second")))["status"] == "stale"
    assert (await sender.send_ok("guest.updated", guest(1, version=3, name="Same version")))["status"] == "stale"
    body = json_of(await profile(http_client, base_url, 1))["data"]
    assert (body["name"], body["version"]) == ("Third", 3)
    events = json_of(await call(http_client, base_url, "GET", "/api/v1/events?entity_id=1"))["data"]
    assert [e["status"] for e in events] == ["stale", "stale", "processed", "processed"]


@pytest.mark.gen_test
async def test_reservation_moving_between_guests_moves_its_stats(sender, http_client, base_url):
    await sender.send_ok("reservation.created", reservation(1, 1, check_in="2026-01-01", check_out="2026-01-03"))
    await sender.send_ok("reservation.created", reservation(2, 1, check_in="2026-02-01", check_out="2026-02-02"))
    await sender.send_ok("guest.created", guest(2))
    await sender.send_ok(
        "reservation.updated", reservation(1, 2, version=2, check_in="2026-01-01", check_out="2026-01-03")
    )
    assert (await stats(http_client, base_url, 1))["total_nights"] == 1
    assert (await stats(http_client, base_url, 2))["total_nights"] == 2


@pytest.mark.gen_test
async def test_tombstone_stops_a_late_update_from_resurrecting_a_reservation(sender, http_client, base_url):
    await sender.send_ok("reservation.deleted", deleted(1, 3, guest_id=1))
    assert (await sender.send_ok("reservation.updated", reservation(1, 1, version=2)))["status"] == "stale"
    assert (await sender.send_ok("reservation.created", reservation(1, 1, version=1)))["status"] == "stale"
    assert (await profile(http_client, base_url, 1)).code == 404  # never seen as a live guest


@pytest.mark.gen_test
async def test_guest_deletion_erases_personal_data_everywhere(sender, http_client, base_url):
    created = await sender.send_ok("guest.created", guest(1, email="erase@example.com", name="Erase Me"))
    await sender.send_ok("guest.updated", guest(1, version=2, email="erase2@example.com", name="Erase Me Too"))
    await sender.send_ok("reservation.created", reservation(5, 1))
    await sender.send_ok("guest.created", guest(2, name="Keep Me"))
    await sender.send_ok("reservation.deleted", deleted(5, 2, guest_id=1))
    await sender.send_ok("guest.deleted", deleted(1, 3))

    assert (await profile(http_client, base_url, 1)).code == 404
    assert [p["guest_id"] for p in await listed(http_client, base_url)] == [2]
    assert await listed(http_client, base_url, "?email=erase2@example.com") == []

    # A late copy of an old update and a replay of the creation arrive after the delete.
    late = await sender.send_ok("guest.updated", guest(1, version=2, email="late@example.com", name="Late"))
    assert late["status"] == "stale"
    replay = await sender.send("guest.created", guest(1), webhook_id=created["id"])
    assert replay.code == 200 and json_of(replay)["data"]["status"] == "duplicate"
    assert (await profile(http_client, base_url, 1)).code == 404

    events = json_of(await call(http_client, base_url, "GET", "/api/v1/events?limit=500"))["data"]
    guest_one = [e for e in events if e["type"].startswith("guest.") and e["entity_id"] == 1]
    assert len(guest_one) == 4
    for event in guest_one:
        for field in ("email", "name", "phone", "date_of_birth"):
            assert event["payload"].get(field) is None, event
    assert "Erase" not in str(events) and "late@example.com" not in str(events)
    kept = [e for e in events if e["type"] == "guest.created" and e["entity_id"] == 2]
    assert kept[0]["payload"]["name"] == "Keep Me"


@pytest.mark.gen_test
async def test_list_filters_and_keyset_pages(sender, http_client, base_url):
    names = {1: "Ana Silva", 2: "Bruno 100%_Costa", 3: "Carla SILVA", 4: "Dan Brown", 5: "Eve Stone"}
    for gid, name in names.items():
        await sender.send_ok("guest.created", guest(gid, name=name, email=f"user{gid}@Hotel.example"))
    for i in range(2):  # guest 4 is returning
        await sender.send_ok("reservation.created", reservation(40 + i, 4))

    assert [p["guest_id"] for p in await listed(http_client, base_url)] == [5, 4, 3, 2, 1]
    assert [p["guest_id"] for p in await listed(http_client, base_url, "?q=silva")] == [3, 1]
    assert [p["guest_id"] for p in await listed(http_client, base_url, "?q=HOTEL.EXAMPLE")] == [5, 4, 3, 2, 1]
    assert [p["guest_id"] for p in await listed(http_client, base_url, "?q=100%25_")] == [2]
    assert [p["guest_id"] for p in await listed(http_client, base_url, "?q=%25")] == [2]
    assert [p["guest_id"] for p in await listed(http_client, base_url, "?email=USER3@hotel.example")] == [3]
    assert [p["guest_id"] for p in await listed(http_client, base_url, "?tier=returning")] == [4]
    assert [p["guest_id"] for p in await listed(http_client, base_url, "?tier=new&q=silva")] == [3, 1]

    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = json_of(await call(http_client, base_url, "GET", f"/api/v1/guest-profiles{query}"))
        seen += [p["guest_id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]
    tail = json_of(await call(http_client, base_url, "GET", "/api/v1/guest-profiles?since_id=3"))
    assert [p["guest_id"] for p in tail["data"]] == [4, 5]

    for query, field in (
        ("?tier=gold", "tier"),
        ("?limit=-1", "limit"),
        ("?limit=x", "limit"),
        ("?cursor=garbage", "cursor"),
    ):
        response = await call(http_client, base_url, "GET", f"/api/v1/guest-profiles{query}")
        assert response.code == 422, query
        assert json_of(response)["error"]["details"][0]["field"] == field


@pytest.mark.gen_test
async def test_unknown_profile_is_404(http_client, base_url, crm_db):
    for path in (
        "/api/v1/guest-profiles/999",
        "/api/v1/guest-profiles/99999999999999999999999",
        "/api/v1/guest-profiles/abc",
    ):
        response = await call(http_client, base_url, "GET", path)
        assert response.code == 404, path
        assert json_of(response)["error"]["code"] == "not_found"


def test_dated_stats_follow_the_calendar_not_the_apply_time(crm_db):
    from crm_app.services.profiles import get_profile
    from crm_app.services.receiver import receive_one
    from tests.crm_app.webhook_factory import incoming

    for rid, (check_in, check_out, status) in enumerate(
        [
            ("2026-05-01", "2026-05-05", "confirmed"),
            ("2026-05-10", "2026-05-12", "confirmed"),
            ("2026-05-08", "2026-05-09", "cancelled"),
        ],
        start=1,
    ):
        crm_db.store.call(
            receive_one,
            incoming("reservation.created", reservation(rid, 1, check_in=check_in, check_out=check_out, status=status)),
            transaction=False,
        )

    def dated(today: str) -> tuple:
        stats = crm_db.store.call(get_profile, 1, dt.date.fromisoformat(today))["stats"]
        return stats["active_reservations"], stats["next_check_in"]

    assert dated("2026-04-01") == (2, "2026-05-01")
    assert dated("2026-05-05") == (2, "2026-05-10")  # checking out today still counts as active
    assert dated("2026-05-11") == (1, None)  # a stay in progress is active, not "next"
    assert dated("2026-05-13") == (0, None)
