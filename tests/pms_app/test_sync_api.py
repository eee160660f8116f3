"""The PMS's reconciliation routes over HTTP: tombstones, digest, manifest, runs, status, metrics."""

from __future__ import annotations

import dataclasses
import hashlib
import re

import pytest

from core.sync import MANIFEST_MAX_LIMIT
from pms_app.config import PmsSettings
from pms_app.sync import runs
from pms_app.sync.models import COMPLETED, FAILED, SyncRun, Tombstone
from tests.pms_app.helpers import guest_body, reservation_body
from tests.support.http import call, json_of

TOKEN = "sync-api-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def pms_settings() -> PmsSettings:
    return dataclasses.replace(PmsSettings(), api_token=TOKEN)


async def api(http_client, base_url, method, path, body=None, headers=AUTH):
    return await call(http_client, base_url, method, "/api/v1" + path, body, headers=headers)


async def data_of(http_client, base_url, path):
    response = await api(http_client, base_url, "GET", path)
    assert response.code == 200, response.body
    return json_of(response)


async def make(http_client, base_url, guests=3, reservations_each=1) -> list[dict]:
    made = []
    for _ in range(guests):
        guest = json_of(await api(http_client, base_url, "POST", "/guests", guest_body()))["data"]
        for _ in range(reservations_each):
            r = await api(http_client, base_url, "POST", "/reservations", reservation_body(guest["id"]))
            assert r.code == 201
        made.append(guest)
    return made


def tombstones(store) -> list[tuple]:
    return store.call(
        lambda: [
            (t.kind, t.entity_id, t.version, t.guest_id)
            for t in Tombstone.select().order_by(Tombstone.kind, Tombstone.entity_id)
        ]
    )


@pytest.mark.gen_test
async def test_deletes_leave_tombstones_in_their_transaction(http_client, base_url, pms_db):
    guest = (await make(http_client, base_url, guests=1, reservations_each=2))[0]
    await api(http_client, base_url, "PUT", f"/guests/{guest['id']}", {"name": "Renamed"})
    assert (await api(http_client, base_url, "DELETE", f"/guests/{guest['id']}")).code == 204
    # Each reservation goes at its next version, then the guest at its next (renamed: v2 -> v3).
    assert tombstones(pms_db.store) == [
        ("guest", guest["id"], 3, None),
        ("reservation", 1, 2, guest["id"]),
        ("reservation", 2, 2, guest["id"]),
    ]
    other = (await make(http_client, base_url, guests=1))[0]
    assert (await api(http_client, base_url, "DELETE", "/reservations/3")).code == 204
    assert ("reservation", 3, 2, other["id"]) in tombstones(pms_db.store)


@pytest.mark.gen_test
async def test_a_failed_delete_leaves_no_tombstone(http_client, base_url, pms_db, monkeypatch):
    guest = (await make(http_client, base_url, guests=1))[0]

    def broken(*args, **kwargs):
        raise RuntimeError("outbox write failed")

    monkeypatch.setattr("pms_app.services.guests.record_event", broken)
    assert (await api(http_client, base_url, "DELETE", f"/guests/{guest['id']}")).code == 500
    assert tombstones(pms_db.store) == []
    assert (await api(http_client, base_url, "GET", f"/guests/{guest['id']}")).code == 200


@pytest.mark.gen_test
async def test_digest_hashes_live_rows_and_tombstones(http_client, base_url, pms_db):
    made = await make(http_client, base_url, guests=4, reservations_each=0)
    await api(http_client, base_url, "DELETE", f"/guests/{made[1]['id']}")
    await api(http_client, base_url, "PUT", f"/guests/{made[2]['id']}", {"name": "Two"})
    body = await data_of(http_client, base_url, "/sync/digest?kind=guest&from_id=1&to_id=4&buckets=2")
    lines = [b"1:1:0\n2:2:1\n", b"3:2:0\n4:1:0\n"]
    assert body == {
        "data": [
            {"from_id": 1, "to_id": 2, "count": 2, "hash": hashlib.sha256(lines[0]).hexdigest()},
            {"from_id": 3, "to_id": 4, "count": 2, "hash": hashlib.sha256(lines[1]).hexdigest()},
        ]
    }
    empty = await data_of(http_client, base_url, "/sync/digest?kind=reservation")
    assert empty["data"] == [{"from_id": 1, "to_id": 2**63 - 1, "count": 0, "hash": hashlib.sha256(b"").hexdigest()}]


@pytest.mark.gen_test
async def test_manifest_pages_walk_every_entity_once(http_client, base_url, pms_db):
    made = await make(http_client, base_url, guests=7, reservations_each=0)
    for guest in made[::3]:
        await api(http_client, base_url, "DELETE", f"/guests/{guest['id']}")
    seen, after, pages = [], 0, 0
    while True:
        body = await data_of(http_client, base_url, f"/sync/manifest?kind=guest&after={after}&limit=3")
        pages += 1
        seen += body["data"]
        if body["next_cursor"] is None:
            break
        after = body["next_cursor"]
    assert pages == 3
    assert seen == [
        {"id": g["id"], "version": 2 if i % 3 == 0 else 1, "deleted": i % 3 == 0} for i, g in enumerate(made)
    ]
    # A list client that passes next_cursor back as ?cursor= walks the same pages.
    first = await data_of(http_client, base_url, "/sync/manifest?kind=guest&limit=3")
    second = await data_of(http_client, base_url, f"/sync/manifest?kind=guest&limit=3&cursor={first['next_cursor']}")
    assert [r["id"] for r in first["data"] + second["data"]] == [r["id"] for r in seen[:6]]


@pytest.mark.gen_test
async def test_manifest_limit_is_capped_not_refused(http_client, base_url, pms_db):
    await make(http_client, base_url, guests=2, reservations_each=0)
    body = await data_of(http_client, base_url, f"/sync/manifest?kind=guest&limit={MANIFEST_MAX_LIMIT * 10}")
    assert len(body["data"]) == 2 and body["next_cursor"] is None


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "path, fields",
    [
        ("/sync/digest", ["kind"]),
        ("/sync/digest?kind=profile", ["kind"]),
        ("/sync/digest?kind=guest&from_id=5&to_id=4", ["to_id"]),
        ("/sync/digest?kind=guest&buckets=0&from_id=x", ["from_id", "buckets"]),
        ("/sync/digest?kind=guest&to_id=-1", ["to_id"]),
        ("/sync/manifest?kind=guests", ["kind"]),
        ("/sync/manifest?kind=guest&after=-1&limit=0", ["after", "limit"]),
        ("/sync/manifest?kind=guest&limit=ten", ["limit"]),
        ("/sync/runs?kind=all", ["kind"]),
        ("/sync/runs?limit=0", ["limit"]),
    ],
)
async def test_bad_parameters_are_422_naming_the_field(http_client, base_url, pms_db, path, fields):
    response = await api(http_client, base_url, "GET", path)
    assert response.code == 422
    error = json_of(response)["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == fields


@pytest.mark.gen_test
async def test_sync_routes_need_the_token(http_client, base_url, pms_db):
    for path in ("/sync/digest?kind=guest", "/sync/manifest?kind=guest", "/sync/runs"):
        response = await api(http_client, base_url, "GET", path, headers={})
        assert response.code == 401 and json_of(response)["error"]["code"] == "unauthorized"


def record_run(store, kind, status, drifted=0, **counts):
    run_id = store.call(runs.start_run, kind, "command", False)
    store.call(runs.finish_run, run_id, status, runs.RunTotals(drifted=drifted, **counts))
    return run_id


@pytest.mark.gen_test
async def test_runs_are_listed_newest_first_with_keyset_pages(http_client, base_url, pms_db):
    ids = [
        record_run(pms_db.store, kind, COMPLETED, compared=10 * n)
        for n, kind in enumerate(["guest", "reservation"] * 3)
    ]
    first = await data_of(http_client, base_url, "/sync/runs?limit=4")
    assert [r["id"] for r in first["data"]] == ids[::-1][:4]
    run = first["data"][0]
    assert {
        "id",
        "started_at",
        "finished_at",
        "kind",
        "compared",
        "drifted",
        "repaired",
        "unrepairable",
        "status",
    } <= set(run)
    assert run["status"] == "completed" and run["compared"] == 50 and run["finished_at"].endswith("Z")
    rest = await data_of(http_client, base_url, f"/sync/runs?limit=4&cursor={first['next_cursor']}")
    assert [r["id"] for r in rest["data"]] == ids[::-1][4:] and rest["next_cursor"] is None
    guests_only = await data_of(http_client, base_url, "/sync/runs?kind=guest")
    assert {r["kind"] for r in guests_only["data"]} == {"guest"} and len(guests_only["data"]) == 3


@pytest.mark.gen_test
async def test_status_route_keeps_its_keys_and_gains_sync(http_client, base_url, pms_db):
    before = (await data_of(http_client, base_url, "/guests/webhook/status"))["data"]
    assert {"endpoint", "breaker", "outbox", "last_success_at", "last_failure_at"} <= set(before)
    assert before["sync"] == {"last_run": None, "next_run_at": None}
    run_id = record_run(pms_db.store, "reservation", COMPLETED, drifted=2, repaired=2)
    after = (await data_of(http_client, base_url, "/guests/webhook/status"))["data"]
    assert after["sync"]["last_run"]["id"] == run_id
    assert (after["sync"]["last_run"]["drifted"], after["sync"]["last_run"]["repaired"]) == (2, 2)


def gauge(text: str, kind: str) -> float | None:
    match = re.search(rf'^guestsync_sync_drift_entities{{kind="{kind}"}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else None


@pytest.mark.gen_test
async def test_drift_gauge_follows_the_latest_completed_run_of_each_kind(http_client, base_url, pms_db):
    metrics = (await call(http_client, base_url, "GET", "/metrics")).body.decode()
    assert gauge(metrics, "guest") is None  # never reconciled: no sample
    record_run(pms_db.store, "guest", COMPLETED, drifted=7)
    record_run(pms_db.store, "reservation", COMPLETED, drifted=3)
    record_run(pms_db.store, "guest", FAILED, drifted=99)  # a failed run says nothing about drift
    metrics = (await call(http_client, base_url, "GET", "/metrics")).body.decode()
    assert (gauge(metrics, "guest"), gauge(metrics, "reservation")) == (7.0, 3.0)
    record_run(pms_db.store, "guest", COMPLETED, drifted=0)
    metrics = (await call(http_client, base_url, "GET", "/metrics")).body.decode()
    assert gauge(metrics, "guest") == 0.0


@pytest.mark.gen_test
async def test_metrics_still_answer_when_the_database_is_down(http_client, base_url, pms_db, monkeypatch):
    def down(*args):
        raise RuntimeError("database unavailable")

    monkeypatch.setattr("pms_app.sync.metrics.latest_completed", down)
    response = await call(http_client, base_url, "GET", "/metrics")
    assert response.code == 200 and b"http_requests_total" in response.body


def test_abandoned_runs_are_closed(pms_db):
    store = pms_db.store
    run_id = store.call(runs.start_run, "guest", "schedule", False)
    assert store.call(runs.abandon_running) == 1
    run = store.call(runs.get_run, run_id)
    assert run["status"] == "abandoned" and run["finished_at"] is not None
    # A late finish of the abandoned run does not overwrite what the new holder wrote.
    store.call(runs.finish_run, run_id, COMPLETED, runs.RunTotals(compared=5))
    assert store.call(runs.get_run, run_id)["status"] == "abandoned"
    assert store.call(lambda: SyncRun.select().count()) == 1
