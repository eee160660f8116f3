"""Operator attribution through the real PMS app: ``X-Operator``, the audit log and ``GET /audit``."""

from __future__ import annotations

import dataclasses

import pytest
from tornado.httputil import HTTPHeaders

from pms_app.config import PmsSettings
from pms_app.models import FAILED, PENDING, SCHEDULED, AuditEntry, Delivery, OutboxEvent
from pms_app.services import deliveries
from tests.support.http import call, json_of

TOKEN = "audit-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENTRY_KEYS = {"id", "operator", "action", "target", "at", "details", "request_id"}


@pytest.fixture
def pms_settings() -> PmsSettings:
    return dataclasses.replace(PmsSettings(), api_token=TOKEN)


async def api(http_client, base_url, method, path, body=None, operator=None, headers=None):
    sent = {**AUTH, **(headers or {})}
    if operator is not None:
        sent["X-Operator"] = operator
    return await call(http_client, base_url, method, "/api/v1" + path, body, headers=sent)


async def failed_events(http_client, base_url, store, n: int) -> list[str]:
    """``n`` outbox events (one guest each), all ``failed``; their ids, newest first."""
    for i in range(n):
        r = await api(http_client, base_url, "POST", "/guests", {"email": f"a{i}@example.com", "name": f"A {i}"})
        assert r.code == 201
    ids = store.call(lambda: [e.id for e in OutboxEvent.select().order_by(OutboxEvent.seq.desc())])
    store.call(lambda: Delivery.update(status=FAILED, attempt_count=3, attempts_since_replay=3).execute())
    return ids


def audit_rows(store) -> list[AuditEntry]:
    return store.call(lambda: list(AuditEntry.select().order_by(AuditEntry.id)))


def outbox(store) -> dict[str, Delivery]:
    """Each event's delivery to the CRM (endpoint 1), by event id."""
    return store.call(lambda: {d.event_id: d for d in Delivery.select()})


# -- X-Operator ---------------------------------------------------------------------------------


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "bad", ["", "alice smith", "x" * 65, "alice;drop", "<b>alice</b>", "al/ice", "\u00e5lice", "ali\tce"]
)
async def test_a_malformed_x_operator_is_a_422_and_changes_nothing(http_client, base_url, pms_db, bad):
    store = pms_db.store
    (event_id,) = await failed_events(http_client, base_url, store, 1)
    for method, path in (
        ("POST", f"/webhooks/deliveries/{event_id}/replay"),
        ("POST", "/webhooks/deliveries/replay"),
        ("GET", "/audit"),
        ("GET", "/webhooks/deliveries"),
    ):
        r = await api(http_client, base_url, method, path, operator=bad)
        assert r.code == 422, (method, path, r.body)
        error = json_of(r)["error"]
        assert error["code"] == "validation_error"
        assert [d["field"] for d in error["details"]] == ["X-Operator"]
    assert outbox(store)[event_id].status == FAILED
    assert audit_rows(store) == []


@pytest.mark.gen_test
async def test_two_x_operator_headers_are_refused(http_client, base_url, pms_db):
    headers = HTTPHeaders({**AUTH, "Content-Type": "application/json"})
    headers.add("X-Operator", "alice")
    headers.add("X-Operator", "bob")
    r = await http_client.fetch(
        base_url + "/api/v1/webhooks/deliveries/replay", method="POST", body=b"", headers=headers, raise_error=False
    )
    assert r.code == 422 and json_of(r)["error"]["details"][0]["field"] == "X-Operator"
    assert audit_rows(pms_db.store) == []


@pytest.mark.gen_test
@pytest.mark.parametrize("name", ["alice", "a", "ops", "Jo.Doe_2@night-shift", "x" * 64])
async def test_well_formed_operator_names_are_recorded_as_given(http_client, base_url, pms_db, name):
    r = await api(http_client, base_url, "POST", "/webhooks/deliveries/replay", operator=name)
    assert r.code == 202
    assert [e.operator for e in audit_rows(pms_db.store)] == [name]


# -- what a replay records ------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_a_replay_is_audited_and_marks_the_event(http_client, base_url, pms_db):
    store = pms_db.store
    newer, older = await failed_events(http_client, base_url, store, 2)
    r = await api(
        http_client,
        base_url,
        "POST",
        f"/webhooks/deliveries/{older}/replay",
        operator="alice",
        headers={"X-Request-ID": "req-replay-1"},
    )
    assert r.code == 202 and json_of(r)["data"]["status"] == PENDING
    r = await api(http_client, base_url, "POST", f"/webhooks/deliveries/{newer}/replay")  # an API client
    assert r.code == 202
    r = await api(http_client, base_url, "GET", "/audit")
    assert r.code == 200
    body = json_of(r)
    assert body["next_cursor"] is None
    anonymous, by_alice = body["data"]  # newest first
    assert set(by_alice) == ENTRY_KEYS
    assert {k: by_alice[k] for k in ENTRY_KEYS - {"id", "at"}} == {
        "operator": "alice",
        "action": "delivery.replay",
        "target": older,
        "details": {"previous_status": "failed", "endpoint_id": 1},
        "request_id": "req-replay-1",
    }
    assert by_alice["at"].endswith("Z") and "T" in by_alice["at"]
    assert anonymous["operator"] is None and anonymous["target"] == newer
    assert len(anonymous["request_id"]) == 32 and anonymous["id"] > by_alice["id"]
    events = outbox(store)
    assert (events[older].next_trigger, events[older].replayed_by) == ("replay", "alice")
    assert (events[newer].next_trigger, events[newer].replayed_by) == ("replay", None)
    # A fresh retry schedule, but the count of attempts made is kept.
    assert (events[older].attempts_since_replay, events[older].attempt_count) == (0, 3)


@pytest.mark.gen_test
async def test_replaying_every_failed_event_is_one_entry_with_the_count(http_client, base_url, pms_db):
    store = pms_db.store
    await failed_events(http_client, base_url, store, 3)
    r = await api(http_client, base_url, "POST", "/webhooks/deliveries/replay", operator="bob")
    assert json_of(r) == {"data": {"replayed": 3}}
    assert {(e.next_trigger, e.replayed_by) for e in outbox(store).values()} == {("replay", "bob")}
    r = await api(http_client, base_url, "POST", "/webhooks/deliveries/replay", operator="bob")
    assert json_of(r) == {"data": {"replayed": 0}}
    entries = json_of(await api(http_client, base_url, "GET", "/audit"))["data"]
    assert [(e["operator"], e["action"], e["target"], e["details"]) for e in entries] == [
        ("bob", "deliveries.replay_failed", None, {"replayed": 0, "endpoint_id": 1}),
        ("bob", "deliveries.replay_failed", None, {"replayed": 3, "endpoint_id": 1}),
    ]


# -- atomicity ------------------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_a_replay_that_fails_writes_no_entry(http_client, base_url, pms_db):
    unknown = "6f1c2d1e-0000-4000-8000-000000000000"
    r = await api(http_client, base_url, "POST", f"/webhooks/deliveries/{unknown}/replay", operator="alice")
    assert r.code == 404
    assert audit_rows(pms_db.store) == []


@pytest.mark.gen_test
async def test_an_action_failing_after_its_entry_was_written_rolls_the_entry_back(
    http_client, base_url, pms_db, monkeypatch
):
    store = pms_db.store
    (event_id,) = await failed_events(http_client, base_url, store, 1)
    written = []
    real_record = deliveries.audit.record

    def record_then_note(*args, **kwargs):
        written.append(real_record(*args, **kwargs))
        return written[-1]

    def broken_summary(_event):
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(deliveries.audit, "record", record_then_note)
    monkeypatch.setattr(deliveries, "summary", broken_summary)  # runs after the entry is written
    r = await api(http_client, base_url, "POST", f"/webhooks/deliveries/{event_id}/replay", operator="alice")
    assert r.code == 500
    assert len(written) == 1  # the entry was written inside the unit of work...
    assert audit_rows(store) == []  # ...and rolled back with it
    row = outbox(store)[event_id]
    assert (row.status, row.next_trigger, row.replayed_by, row.attempts_since_replay) == (FAILED, SCHEDULED, None, 3)


@pytest.mark.gen_test
async def test_an_entry_that_cannot_be_written_undoes_the_action(http_client, base_url, pms_db):
    store = pms_db.store
    ids = await failed_events(http_client, base_url, store, 2)

    def rename(old: str, new: str):
        store.call(lambda: store.database.execute_sql(f"ALTER TABLE {old} RENAME TO {new}"), transaction=False)

    rename("audit_log", "audit_log_away")
    try:
        single = await api(http_client, base_url, "POST", f"/webhooks/deliveries/{ids[0]}/replay", operator="alice")
        every = await api(http_client, base_url, "POST", "/webhooks/deliveries/replay", operator="alice")
    finally:
        rename("audit_log_away", "audit_log")
    assert (single.code, every.code) == (500, 500)
    assert {(e.status, e.next_trigger) for e in outbox(store).values()} == {(FAILED, SCHEDULED)}
    assert audit_rows(store) == []


# -- GET /audit -----------------------------------------------------------------------------------


@pytest.mark.gen_test
async def test_audit_lists_newest_first_with_filters_and_pages(http_client, base_url, pms_db):
    store = pms_db.store
    (event_id,) = await failed_events(http_client, base_url, store, 1)
    made = [
        ("alice", "single"),
        ("bob", "all"),
        ("Alice", "single"),
        (None, "all"),
        ("alice", "all"),
        ("bob", "single"),
        ("alice", "single"),
    ]
    for operator, kind in made:
        path = f"/webhooks/deliveries/{event_id}/replay" if kind == "single" else "/webhooks/deliveries/replay"
        assert (await api(http_client, base_url, "POST", path, operator=operator)).code == 202
    action = {"single": "delivery.replay", "all": "deliveries.replay_failed"}
    expected = [(op, action[kind]) for op, kind in reversed(made)]

    async def listed(query: str) -> dict:
        r = await api(http_client, base_url, "GET", "/audit" + query)
        assert r.code == 200, r.body
        return json_of(r)

    everything = (await listed(""))["data"]
    assert [(e["operator"], e["action"]) for e in everything] == expected
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)

    # Keyset pages walk every entry once, in the same order.
    walked, cursor = [], None
    while True:
        page = await listed("?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["data"]) <= 3
        walked += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ids

    # Filters: exact operator names (case counts on every backend), actions, and both at once.
    assert [e["id"] for e in (await listed("?operator=alice"))["data"]] == [
        e["id"] for e in everything if e["operator"] == "alice"
    ]
    assert [e["operator"] for e in (await listed("?operator=Alice"))["data"]] == ["Alice"]
    assert (await listed("?operator=nobody"))["data"] == []
    singles = (await listed("?action=delivery.replay"))["data"]
    assert [e["operator"] for e in singles] == ["alice", "bob", "Alice", "alice"]
    assert {e["target"] for e in singles} == {event_id}
    both = await listed("?operator=alice&action=deliveries.replay_failed&limit=1")
    assert [(e["operator"], e["action"]) for e in both["data"]] == [("alice", "deliveries.replay_failed")]
    assert both["next_cursor"] is None
    filtered_page = await listed("?operator=alice&limit=2")
    rest = await listed(f"?operator=alice&limit=2&cursor={filtered_page['next_cursor']}")
    assert [e["id"] for e in filtered_page["data"] + rest["data"]] == [
        e["id"] for e in everything if e["operator"] == "alice"
    ]

    # since_id tails ascending.
    tail = await listed(f"?since_id={ids[3]}")
    assert [e["id"] for e in tail["data"]] == sorted(ids[:3])


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "query, field",
    [
        ("action=delivery.exploded", "action"),
        ("operator=no%20spaces", "operator"),
        ("operator=" + "x" * 65, "operator"),
        ("limit=0", "limit"),
        ("cursor=zzz", "cursor"),
        ("since_id=-1", "since_id"),
    ],
)
async def test_audit_refuses_malformed_arguments(http_client, base_url, pms_db, query, field):
    r = await api(http_client, base_url, "GET", f"/audit?{query}")
    assert r.code == 422
    error = json_of(r)["error"]
    assert error["code"] == "validation_error" and [d["field"] for d in error["details"]] == [field]


@pytest.mark.gen_test
async def test_audit_needs_the_token(http_client, base_url, pms_db):
    r = await call(http_client, base_url, "GET", "/api/v1/audit")
    assert r.code == 401 and json_of(r)["error"]["code"] == "unauthorized"
    # The token is checked before anything else: a bad X-Operator does not tell a stranger more.
    r = await call(http_client, base_url, "GET", "/api/v1/audit", headers={"X-Operator": "bad name"})
    assert r.code == 401
