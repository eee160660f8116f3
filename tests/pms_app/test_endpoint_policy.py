"""Per-endpoint policy in the worker: retry schedules, max_in_flight, 410 Gone, the failing
window, and a rate limit that holds across two worker processes."""

from __future__ import annotations

import datetime as dt

from core.db import utcnow
from pms_app.delivery.retry import next_delay, schedule_of
from pms_app.endpoints import health
from pms_app.endpoints.models import Endpoint
from pms_app.models import DELIVERED, HELD, PENDING
from tests.support.delivery import SECRET, add_event, delivery_settings, running_worker, statuses
from tests.support.endpoints import add_endpoint
from tests.support.processes import start_module
from tests.support.receivers import Receiver, accept, always, slow, wait_until


def test_exponential_schedule_and_retry_after_cap():
    schedule = schedule_of(
        {"exponential": {"initial_seconds": 2, "factor": 3, "max_seconds": 60, "max_retries": 5}}, (5,)
    )
    assert schedule == (2, 6, 18, 54, 60)
    assert schedule_of(None, (5, 30)) == (5, 30) and schedule_of([1, 2], (5,)) == (1, 2)
    # 10% jitter at most, then give up after the last retry.
    assert 18 <= next_delay(schedule, 3, rand=lambda: 0.999) <= 19.8
    assert next_delay(schedule, 6) is None
    # Retry-After lengthens a wait, never past the longest step.
    assert next_delay(schedule, 1, retry_after=3600, rand=lambda: 0.0) == 60


def endpoint_row(store, endpoint_id):
    return store.call(lambda: Endpoint.get_by_id(endpoint_id))


def test_410_gone_disables_the_endpoint_at_once_and_holds_its_deliveries(pms_db):
    store = pms_db.store
    with Receiver(always(410)) as gone_rx, Receiver(accept) as crm:
        gone = add_endpoint(store, "gone", gone_rx.url, retry_schedule=[0, 0, 0])
        ids = [add_event(store, entity_id=i) for i in range(6)]
        with running_worker(delivery_settings(crm.url, delivery_concurrency=2), store):
            wait_until(lambda: endpoint_row(store, gone).disabled_reason == "gone", message="disabled")
            wait_until(lambda: set(statuses(store).values()) == {DELIVERED}, message="the CRM's copies")
            later = add_event(store, entity_id=99)
            wait_until(lambda: statuses(store).get(later) == DELIVERED, message="a later event to the CRM")
        # No failure, no retry: the answered one and every other one are held; few were sent.
        assert set(statuses(store, gone).values()) == {HELD}
        assert set(statuses(store, gone)) == {*ids, later}
        assert 1 <= gone_rx.count() <= 4
    row = endpoint_row(store, gone)
    assert row.enabled is False and row.disabled_at is not None


def test_max_in_flight_bounds_concurrent_attempts_to_one_endpoint(pms_db):
    store = pms_db.store
    with Receiver(slow(0.3)) as narrow_rx, Receiver(accept) as crm:
        narrow = add_endpoint(store, "narrow", narrow_rx.url, max_in_flight=2)
        for i in range(8):
            add_event(store, entity_id=i)
        with running_worker(delivery_settings(crm.url, delivery_concurrency=8), store):
            wait_until(
                lambda: set(statuses(store, narrow).values()) == {DELIVERED}, timeout=20, message="all delivered"
            )
        starts = sorted(r.at for r in narrow_rx.received)
    # Never a third attempt while two are in flight (each takes 0.3 s).
    assert len(starts) == 8
    assert all(starts[i + 2] - starts[i] >= 0.28 for i in range(len(starts) - 2))


def test_an_endpoint_failing_long_enough_is_disabled(pms_db):
    store = pms_db.store
    with Receiver(always(500)) as failing_rx, Receiver(accept) as crm:
        failing = add_endpoint(store, "failing", failing_rx.url, retry_schedule=[3600])
        add_event(store, entity_id=1)
        with running_worker(delivery_settings(crm.url), store):
            wait_until(lambda: endpoint_row(store, failing).failing_since is not None, message="failing")
    since = endpoint_row(store, failing).failing_since
    assert endpoint_row(store, failing).enabled is True
    # A clock 119 h later changes nothing; 121 h later it is disabled and its deliveries held.
    assert store.call(health.disable_failing, 120, since + dt.timedelta(hours=119)) == []
    assert store.call(health.disable_failing, 120, since + dt.timedelta(hours=121)) == [failing]
    row = endpoint_row(store, failing)
    assert (row.enabled, row.disabled_reason) == (False, "failing")
    assert set(statuses(store, failing).values()) == {HELD}
    # A success closes the window.
    store.call(health.note_outcomes, failing, utcnow(), None)
    assert endpoint_row(store, failing).failing_since is None


def test_rate_limit_holds_across_two_worker_processes(pms_db, tmp_path):
    store = pms_db.store
    rate, events = 40, 480
    with Receiver(accept) as limited_rx, Receiver(accept) as crm:
        limited = add_endpoint(store, "limited", limited_rx.url, rate_limit_per_second=rate)
        store.call(lambda: Endpoint.update(enabled=False).where(Endpoint.id == 1).execute())  # only one target
        for i in range(events):
            add_event(store, entity_id=i)
        env = {
            "DATABASE_URL": pms_db.url,
            "CRM_WEBHOOK_URL": crm.url,
            "CRM_WEBHOOK_SECRET": SECRET,
            "DELIVERY_CONCURRENCY": "8",
            "LOG_LEVEL": "WARNING",
        }
        workers = [start_module(["pms_app", "worker"], env, str(tmp_path / f"w{n}.log")) for n in range(2)]
        try:
            wait_until(lambda: limited_rx.count() >= events, timeout=60, interval=0.2, message="all sent")
        finally:
            for process in workers:
                process.terminate()
            for process in workers:
                process.wait(timeout=30)
        starts = sorted(r.at for r in limited_rx.received)
    assert len(starts) == events
    # Over any 10-second window, at most the rate (10% tolerance), both processes together.
    worst = max(sum(1 for t in starts[i:] if t < start + 10.0) for i, start in enumerate(starts))
    assert worst <= rate * 10 * 1.1
    assert starts[-1] - starts[0] >= (events - rate) / rate * 0.9  # and it did not just stall
    assert set(statuses(store, limited).values()) == {DELIVERED}


def test_a_rate_limited_endpoint_does_not_hold_the_others_back(pms_db):
    store = pms_db.store
    with Receiver(accept) as slow_rx, Receiver(accept) as crm:
        limited = add_endpoint(store, "limited", slow_rx.url, rate_limit_per_second=5)
        ids = [add_event(store, entity_id=i) for i in range(40)]
        with running_worker(delivery_settings(crm.url), store):
            wait_until(
                lambda: set(statuses(store).values()) == {DELIVERED},
                timeout=10,
                message="the CRM's copies, at full speed",
            )
            # Meanwhile the limited endpoint has had about its burst plus 5 a second.
            assert slow_rx.count() < 20
            assert PENDING in set(statuses(store, limited).values())
    assert set(crm.hits) == set(ids)
