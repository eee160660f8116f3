"""The CRM's reconciliation routes over HTTP: what it counts as held, tombstones, paging, checks."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from crm_app.config import CrmSettings
from tests.crm_app.webhook_factory import SECRET, deleted, guest, reservation
from tests.support.http import call, json_of

TOKEN = "crm-sync-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def crm_settings() -> CrmSettings:
    return dataclasses.replace(CrmSettings(webhook_secrets=(SECRET,)), api_token=TOKEN)


async def get(http_client, base_url, path, headers=AUTH):
    return await call(http_client, base_url, "GET", "/api/v1" + path, headers=headers)


async def data_of(http_client, base_url, path):
    response = await get(http_client, base_url, path)
    assert response.code == 200, response.body
    return json_of(response)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.gen_test
async def test_guests_held_are_those_a_guest_event_applied(http_client, base_url, sender):
    await sender.send_ok("guest.created", guest(1))
    await sender.send_ok("guest.updated", guest(1, 3))
    await sender.send_ok("guest.created", guest(2))
    await sender.send_ok("guest.deleted", deleted(2, 2))
    # Guest 3 is known only from a reservation: its profile has no version, so it is not held.
    await sender.send_ok("reservation.created", reservation(10, 3))
    body = await data_of(http_client, base_url, "/sync/digest?kind=guest&from_id=1&to_id=4&buckets=1")
    assert body["data"] == [{"from_id": 1, "to_id": 4, "count": 2, "hash": sha("1:3:0\n2:2:1\n")}]
    manifest = await data_of(http_client, base_url, "/sync/manifest?kind=guest")
    assert manifest == {
        "data": [{"id": 1, "version": 3, "deleted": False}, {"id": 2, "version": 2, "deleted": True}],
        "next_cursor": None,
    }


@pytest.mark.gen_test
async def test_reservations_held_include_their_tombstones(http_client, base_url, sender):
    await sender.send_ok("reservation.created", reservation(5, 1))
    await sender.send_ok("reservation.updated", reservation(5, 1, 2, status="cancelled"))
    await sender.send_ok("reservation.created", reservation(6, 1))
    await sender.send_ok("reservation.deleted", deleted(6, 2, guest_id=1))
    body = await data_of(http_client, base_url, "/sync/digest?kind=reservation&from_id=1&to_id=8&buckets=2")
    assert body["data"] == [
        {"from_id": 1, "to_id": 4, "count": 0, "hash": sha("")},
        {"from_id": 5, "to_id": 8, "count": 2, "hash": sha("5:2:0\n6:2:1\n")},
    ]


@pytest.mark.gen_test
async def test_manifest_pages_walk_every_entity_once(http_client, base_url, sender):
    for guest_id in range(1, 12):
        await sender.send_ok("guest.created", guest(guest_id))
    ids, after = [], 0
    while after is not None:
        body = await data_of(http_client, base_url, f"/sync/manifest?kind=guest&after={after}&limit=4")
        ids += [row["id"] for row in body["data"]]
        after = body["next_cursor"]
    assert ids == list(range(1, 12))


@pytest.mark.gen_test
async def test_bad_parameters_and_missing_token(http_client, base_url, crm_db):
    response = await get(http_client, base_url, "/sync/digest?kind=guest&from_id=3&to_id=2&buckets=-1")
    assert response.code == 422
    assert [d["field"] for d in json_of(response)["error"]["details"]] == ["buckets"]
    response = await get(http_client, base_url, "/sync/manifest?limit=0")
    assert [d["field"] for d in json_of(response)["error"]["details"]] == ["kind", "limit"]
    for path in ("/sync/digest?kind=guest", "/sync/manifest?kind=guest"):
        assert (await get(http_client, base_url, path, headers={})).code == 401
