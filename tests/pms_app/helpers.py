"""Small builders shared by the PMS tests."""

from __future__ import annotations

import itertools

from tests.support.http import call, json_of

_counter = itertools.count(1)


def guest_body(**overrides) -> dict:
    n = next(_counter)
    return {"email": f"guest{n}@example.com", "name": f"Guest {n}", **overrides}


def reservation_body(guest_id: int, **overrides) -> dict:
    return {
        "guest_id": guest_id,
        "room_number": "101",
        "room_type": "double",
        "check_in": "2027-03-01",
        "check_out": "2027-03-04",
        "total_amount": "240.00",
        "currency": "USD",
        "adults": 2,
        **overrides,
    }


async def create_guest(client, base_url, **overrides) -> dict:
    response = await call(client, base_url, "POST", "/api/v1/guests", guest_body(**overrides))
    assert response.code == 201, response.body
    return json_of(response)["data"]


async def create_reservation(client, base_url, guest_id: int, **overrides) -> dict:
    response = await call(client, base_url, "POST", "/api/v1/reservations", reservation_body(guest_id, **overrides))
    assert response.code == 201, response.body
    return json_of(response)["data"]
