"""``GET /endpoints/activity`` through the real PMS app: every endpoint's breaker, counts, oldest
waiting delivery and attempts per minute over the last hour, and the overall series; the
percentile rule; the minutes kept between reads."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import utcnow
from pms_app.models import DELIVERED, DELIVERING, FAILED, HELD, PENDING, BreakerState, Delivery, DeliveryAttempt
from pms_app.services.endpoint_activity import AttemptMinutes
from pms_app.services.endpoint_health import last_hour
from tests.support.delivery import add_event
from tests.support.http import call, json_of


async def api(http_client, base_url, method, path, body=None):
    return await call(http_client, base_url, method, "/api/v1" + path, body, headers={"X-Operator": "alice"})


def test_the_summary_takes_nearest_rank_percentiles_and_none_without_durations():
    assert last_hour(0, 0, []) == {
        "attempts": 0,
        "succeeded": 0,
        "failed": 0,
        "success_rate": None,
        "p50_ms": None,
        "p95_ms": None,
    }
    assert last_hour(1, 1, [7])["p95_ms"] == 7
    summary = last_hour(4, 3, [40, 10, 30, 20])
    assert (summary["p50_ms"], summary["p95_ms"], summary["failed"], summary["success_rate"]) == (20, 40, 1, 0.75)


def attempt(delivery: Delivery, started_at: dt.datetime, code: int | None, ms: int, error: str | None = None):
    DeliveryAttempt.create(
        event_id=delivery.event_id,
        delivery_id=delivery.id,
        attempt=1,
        started_at=started_at,
        status_code=code,
        duration_ms=ms,
        error=error,
    )


@pytest.mark.gen_test
async def test_activity_of_every_endpoint_over_the_last_hour(http_client, base_url, pms_db):
    made = await api(
        http_client, base_url, "POST", "/endpoints", {"name": "loyalty", "url": "https://loyalty.example.com/h"}
    )
    assert made.code == 201, made.body
    loyalty = json_of(made)["data"]["id"]
    events = [add_event(pms_db.store, entity_id=i) for i in range(1, 6)]
    now = utcnow()
    minute = now.replace(second=0, microsecond=0)

    def arrange():
        crm = {d.event_id: d for d in Delivery.select().where(Delivery.endpoint_id == 1)}
        other = {d.event_id: d for d in Delivery.select().where(Delivery.endpoint_id == loyalty)}
        # endpoint 1: three good attempts this minute, one 500 the minute before, one too old to count
        for event_id, ms in zip(events[:3], (10, 20, 400), strict=True):
            attempt(crm[event_id], minute + dt.timedelta(seconds=1), 202, ms)
        attempt(crm[events[3]], minute - dt.timedelta(seconds=30), 500, 30, "HTTP 500")
        attempt(crm[events[4]], minute - dt.timedelta(minutes=61), 202, 5)

        def to_crm(*event_ids):
            return Delivery.event_id.in_(event_ids) & (Delivery.endpoint_id == 1)

        Delivery.update(status=DELIVERED).where(to_crm(*events[:3])).execute()
        Delivery.update(status=FAILED).where(to_crm(events[3])).execute()
        Delivery.update(status=DELIVERING, created_at=now - dt.timedelta(minutes=7)).where(to_crm(events[4])).execute()
        # loyalty: refused by a timeout (no status code), and two held deliveries
        attempt(other[events[0]], minute + dt.timedelta(seconds=2), None, 10_000, "timed out")
        Delivery.update(status=HELD).where(
            Delivery.event_id.in_(events[1:3]) & (Delivery.endpoint_id == loyalty)
        ).execute()
        BreakerState.create(
            worker_id="w-1", endpoint=str(loyalty), state="open", failure_count=5, opened_at=now, updated_at=now
        )

    pms_db.store.call(arrange)

    r = await api(http_client, base_url, "GET", "/endpoints/activity")
    assert r.code == 200, r.body
    activity = json_of(r)["data"]
    crm, other = activity["endpoints"]
    assert {k: crm[k] for k in ("endpoint_id", "name", "enabled", "disabled_reason")} == {
        "endpoint_id": 1,
        "name": "crm",
        "enabled": True,
        "disabled_reason": None,
    }
    assert crm["last_hour"] == {
        "attempts": 4,
        "succeeded": 3,
        "failed": 1,
        "success_rate": 0.75,
        "p50_ms": 20,
        "p95_ms": 400,
    }
    assert crm["deliveries"] == {"pending": 0, "delivering": 1, "held": 0, "failed": 1}
    assert crm["oldest_pending_at"] is not None and 419 <= crm["oldest_pending_age_seconds"] < 480
    assert crm["breaker"]["state"] == "closed"
    assert len(crm["minutes"]) == 60
    # (keyed by minute: the request may have crossed into the next one)
    at = {m["at"]: m for m in crm["minutes"]}
    this, before = (x.strftime("%Y-%m-%dT%H:%M:%S.000Z") for x in (minute, minute - dt.timedelta(minutes=1)))
    assert at[this] == {"at": this, "delivered": 3, "failed": 0, "p50_ms": 20, "p95_ms": 400}
    assert (at[before]["delivered"], at[before]["failed"]) == (0, 1)
    assert other["breaker"]["state"] == "open" and other["breaker"]["failure_count"] == 5
    assert (other["last_hour"]["attempts"], other["last_hour"]["success_rate"], other["last_hour"]["p95_ms"]) == (
        1,
        0.0,
        10_000,
    )
    assert other["deliveries"][HELD] == 2 and other["deliveries"][PENDING] == 3
    overall = activity["overall"]
    assert (overall["last_hour"]["attempts"], overall["last_hour"]["failed"]) == (5, 2)
    assert {m["at"]: m for m in overall["minutes"]}[this]["failed"] == 1
    assert overall["oldest_pending_at"] == crm["oldest_pending_at"]


@pytest.mark.gen_test
async def test_activity_with_nothing_sent_yet(http_client, base_url, pms_db):
    activity = json_of(await api(http_client, base_url, "GET", "/endpoints/activity"))["data"]
    (crm,) = activity["endpoints"]
    assert crm["last_hour"] == {
        "attempts": 0,
        "succeeded": 0,
        "failed": 0,
        "success_rate": None,
        "p50_ms": None,
        "p95_ms": None,
    }
    assert (crm["oldest_pending_at"], crm["oldest_pending_age_seconds"]) == (None, None)
    assert [m["delivered"] for m in activity["overall"]["minutes"]] == [0] * 60


def test_settled_minutes_are_read_once_and_the_recent_ones_every_time(pms_db):
    event_id = add_event(pms_db.store, entity_id=1)
    now = utcnow().replace(second=30, microsecond=0)
    minute = now.replace(second=0)
    history = AttemptMinutes()

    def arrange(*moments):
        delivery = Delivery.get((Delivery.event_id == event_id) & (Delivery.endpoint_id == 1))
        for moment in moments:
            attempt(delivery, moment, 202, 10)

    def read():
        found = history.read(minute - dt.timedelta(minutes=59), 60, now, longest_timeout=10.0)
        return {m: t[1].succeeded for m, t in found.items() if 1 in t}

    old, recent = minute - dt.timedelta(minutes=30), minute - dt.timedelta(seconds=20)
    pms_db.store.call(arrange, old + dt.timedelta(seconds=1), recent)
    assert pms_db.store.call(read) == {old: 1, minute - dt.timedelta(minutes=1): 1}
    # An attempt written now into a settled minute is not read again (it cannot happen: an attempt
    # is written when it ends); one into the recent minutes is.
    pms_db.store.call(arrange, old + dt.timedelta(seconds=2), minute + dt.timedelta(seconds=5))
    assert pms_db.store.call(read) == {old: 1, minute - dt.timedelta(minutes=1): 1, minute: 1}
