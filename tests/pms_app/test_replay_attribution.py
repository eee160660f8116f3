"""``trigger`` and ``replayed_by`` on attempts, and ``attempt_count`` across replays, through the real
PMS app (replays over HTTP, the detail route) and real deliveries to a test receiver."""

from __future__ import annotations

import pytest

from core.db import utcnow
from pms_app.delivery import claims
from pms_app.models import DELIVERED, FAILED, PENDING, DeliveryAttempt
from tests.support.delivery import add_event, delivery_settings, event, running_worker
from tests.support.http import call, json_of
from tests.support.receivers import Receiver, Reply, always, wait_until

API = "/api/v1"


async def replay(http_client, base_url, event_id: str | None = None, operator: str | None = None):
    path = f"{API}/webhooks/deliveries/{event_id}/replay" if event_id else f"{API}/webhooks/deliveries/replay"
    response = await call(http_client, base_url, "POST", path, headers={"X-Operator": operator} if operator else None)
    assert response.code == 202, response.body
    return json_of(response)["data"]


async def detail(http_client, base_url, event_id: str) -> dict:
    response = await call(http_client, base_url, "GET", f"{API}/webhooks/deliveries/{event_id}")
    assert response.code == 200
    return json_of(response)["data"]


def attempts_made(store, event_id: str) -> int:
    return store.call(lambda: DeliveryAttempt.select().where(DeliveryAttempt.event_id == event_id).count())


def settled_after(store, event_id: str, status: str, attempts: int):
    return lambda: attempts_made(store, event_id) == attempts and event(store, event_id).status == status


def fail_first(n: int):
    return lambda i, req: Reply(status=500, body=b"down") if i < n else Reply()


def trail(data: dict) -> list[tuple]:
    return [(a["attempt"], a["trigger"], a["replayed_by"], a["status_code"]) for a in data["attempts"]]


@pytest.mark.gen_test(timeout=60)
async def test_the_attempt_after_a_replay_says_who_asked(http_client, base_url, pms_db):
    store = pms_db.store
    with Receiver(fail_first(3)) as receiver:
        event_id = add_event(store)
        with running_worker(delivery_settings(receiver.url, retry_schedule=(0, 0)), store):
            wait_until(settled_after(store, event_id, FAILED, 3), message="three failed attempts")
            await replay(http_client, base_url, event_id, operator="alice")
            wait_until(settled_after(store, event_id, DELIVERED, 4), message="the replay delivered")
            await replay(http_client, base_url, event_id)  # an API client naming nobody
            wait_until(settled_after(store, event_id, DELIVERED, 5), message="the second replay")
        assert receiver.hits_of(event_id) == 5
    data = await detail(http_client, base_url, event_id)
    assert trail(data) == [
        (1, "scheduled", None, 500),
        (2, "scheduled", None, 500),
        (3, "scheduled", None, 500),
        (4, "replay", "alice", 202),
        (5, "replay", None, 202),
    ]
    assert data["attempt_count"] == 5


@pytest.mark.gen_test(timeout=60)
async def test_a_replay_restarts_the_schedule_while_attempt_count_keeps_counting(http_client, base_url, pms_db):
    store = pms_db.store
    with Receiver(always(500)) as receiver:
        event_id = add_event(store)
        with running_worker(delivery_settings(receiver.url, retry_schedule=(0, 0)), store):
            wait_until(settled_after(store, event_id, FAILED, 3), message="the schedule used up")
            assert (await replay(http_client, base_url, operator="bob")) == {"replayed": 1}
            # The whole schedule again (two retries), not one last try: 3 + 3 attempts.
            wait_until(settled_after(store, event_id, FAILED, 6), message="the schedule used up again")
        assert receiver.hits_of(event_id) == 6
    data = await detail(http_client, base_url, event_id)
    assert [(n, trigger, by) for n, trigger, by, _ in trail(data)] == [
        (1, "scheduled", None),
        (2, "scheduled", None),
        (3, "scheduled", None),
        (4, "replay", "bob"),
        (5, "scheduled", None),
        (6, "scheduled", None),
    ]
    assert data["attempt_count"] == 6 and data["status"] == FAILED
    listed = json_of(await call(http_client, base_url, "GET", f"{API}/webhooks/deliveries"))["data"]
    assert [(d["id"], d["attempt_count"]) for d in listed] == [(event_id, 6)]


@pytest.mark.gen_test
async def test_a_send_the_breaker_held_back_keeps_the_replay_for_the_real_attempt(http_client, base_url, pms_db):
    store = pms_db.store
    event_id = add_event(store)
    failure = claims.AttemptRecord(utcnow(), 503, 5, "HTTP 503", None, False)
    (first,) = store.call(claims.claim_due, "w1", 1, 30, transaction=False)
    assert (first.trigger, first.replayed_by) == ("scheduled", None)
    assert store.call(claims.record_attempt, first, failure, utcnow()) is True

    await replay(http_client, base_url, event_id, operator="carol")
    (held,) = store.call(claims.claim_due, "w1", 1, 30, transaction=False)
    assert (held.trigger, held.replayed_by, held.attempts_since_replay) == ("replay", "carol", 0)
    assert store.call(claims.release, held) is True  # the breaker opened: no attempt
    (sent,) = store.call(claims.claim_due, "w1", 1, 30, transaction=False)
    assert (sent.trigger, sent.replayed_by) == ("replay", "carol")
    assert store.call(claims.record_attempt, sent, failure, utcnow()) is True
    (after,) = store.call(claims.claim_due, "w1", 1, 30, transaction=False)
    assert (after.trigger, after.replayed_by, after.attempts_since_replay) == ("scheduled", None, 1)

    data = await detail(http_client, base_url, event_id)
    assert [(n, trigger, by) for n, trigger, by, _ in trail(data)] == [(1, "scheduled", None), (2, "replay", "carol")]
    assert data["attempt_count"] == 2


@pytest.mark.gen_test
async def test_a_replay_during_an_attempt_marks_the_next_one(http_client, base_url, pms_db):
    store = pms_db.store
    event_id = add_event(store)
    success = claims.AttemptRecord(utcnow(), 202, 5, None, "{}", True)
    (in_flight,) = store.call(claims.claim_due, "w1", 1, 30, transaction=False)
    await replay(http_client, base_url, event_id, operator="dave")
    # The attempt under way finishes after the replay: its result is discarded but it counts.
    assert store.call(claims.record_attempt, in_flight, success, None) is False
    row = event(store, event_id)
    assert (row.status, row.attempt_count, row.next_trigger, row.replayed_by) == (PENDING, 1, "replay", "dave")
    (replayed,) = store.call(claims.claim_due, "w2", 1, 30, transaction=False)
    assert store.call(claims.record_attempt, replayed, success, None) is True
    data = await detail(http_client, base_url, event_id)
    assert [(n, trigger, by) for n, trigger, by, _ in trail(data)] == [(1, "scheduled", None), (2, "replay", "dave")]
    assert "result discarded" in data["attempts"][0]["error"]
    assert (data["status"], data["attempt_count"]) == (DELIVERED, 2)
