"""The circuit breaker: the wrapper's rules in isolation, then a worker against a failing endpoint."""

from __future__ import annotations

import threading

from core.contract import BREAKER_STATES
from pms_app.delivery.breaker import STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN, EndpointBreaker
from pms_app.delivery.models import BreakerTransition
from pms_app.delivery.retry import next_delay, parse_retry_after
from pms_app.models import CRM_ENDPOINT_ID, DELIVERED, PENDING, Delivery
from pms_app.services.deliveries import webhook_status
from tests.support.delivery import add_event, delivery_settings, running_worker, statuses
from tests.support.receivers import Receiver, always, slow, wait_until


class Clock:
    """Stands in for the package's monotonic clock so no test waits for a recovery period."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_breaker_package_reports_the_contract_states():
    # The API and the breaker_state table carry the package's state words as they are.
    assert (STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN) == BREAKER_STATES


def breaker(monkeypatch, threshold=3, recovery=30, changes=None):
    clock = Clock()
    monkeypatch.setattr("circuitbreaker.monotonic", clock)
    on_change = (lambda snap, prev: changes.append((prev, snap.state))) if changes is not None else None
    return EndpointBreaker("http://crm/hook", threshold, recovery, on_change=on_change), clock


def fail(b, times=1):
    for _ in range(times):
        b.record(b.admit(), ok=False)


def test_opens_after_the_threshold_of_consecutive_failures(monkeypatch):
    b, _ = breaker(monkeypatch, threshold=3)
    fail(b, 2)
    b.record(b.admit(), ok=True)  # a success resets the count
    fail(b, 2)
    assert b.state == STATE_CLOSED and b.snapshot().failure_count == 2
    fail(b)
    snap = b.snapshot()
    assert snap.state == STATE_OPEN and snap.failure_count == 3 and snap.opened_at is not None
    assert b.admit() is None  # open: the send is held back


def test_half_open_admits_exactly_one_probe_among_concurrent_callers(monkeypatch):
    changes = []
    b, clock = breaker(monkeypatch, threshold=2, recovery=30, changes=changes)
    fail(b, 2)
    clock.now += 31
    tickets, start = [], threading.Barrier(16)

    def ask():
        start.wait()
        tickets.append(b.admit())

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    probes = [t for t in tickets if t is not None]
    assert len(probes) == 1 and probes[0].probe
    assert b.state == STATE_HALF_OPEN
    b.record(probes[0], ok=True)
    assert b.state == STATE_CLOSED and b.snapshot().failure_count == 0
    assert changes == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_a_failed_probe_opens_it_again(monkeypatch):
    b, clock = breaker(monkeypatch, threshold=2, recovery=30)
    fail(b, 2)
    first_opened = b.snapshot().opened_at
    clock.now += 31
    probe = b.admit()
    b.record(probe, ok=False)
    assert b.state == STATE_OPEN and b.admit() is None
    assert b.snapshot().opened_at >= first_opened
    clock.now += 31
    assert b.admit().probe


def test_only_the_probe_decides_while_not_closed(monkeypatch):
    b, clock = breaker(monkeypatch, threshold=2, recovery=30)
    straggler = b.admit()  # admitted while closed, answers after the breaker opened
    fail(b, 2)
    b.record(straggler, ok=True)
    assert b.state == STATE_OPEN
    clock.now += 31
    probe = b.admit()
    b.record(straggler, ok=False)
    assert b.state == STATE_HALF_OPEN
    b.release(probe)  # an unused probe ticket lets the next caller probe
    assert b.admit().probe


def test_zero_recovery_is_not_turned_into_thirty_seconds(monkeypatch):
    b, clock = breaker(monkeypatch, threshold=1, recovery=0)
    fail(b)
    clock.now += 0.01
    assert b.admit().probe


def test_breaker_names_are_unique_per_instance():
    from circuitbreaker import CircuitBreakerMonitor

    a = EndpointBreaker("http://crm/hook", 5, 30)
    b = EndpointBreaker("http://crm/hook", 5, 30)
    assert a._cb.name != b._cb.name
    # Never registered in the package's class-level monitor: no state shared between breakers.
    assert CircuitBreakerMonitor.get(a._cb.name) is None and CircuitBreakerMonitor.get(b._cb.name) is None


def test_retry_delays():
    schedule = (5, 30, 120)
    assert next_delay(schedule, 1, rand=lambda: 0.0) == 5
    assert next_delay(schedule, 2, rand=lambda: 1.0) == 33  # up to 10% jitter
    assert next_delay(schedule, 4) is None  # schedule exhausted: failed
    assert next_delay((), 1) is None
    assert next_delay(schedule, 1, retry_after=60, rand=lambda: 0.0) == 60
    assert next_delay(schedule, 1, retry_after=99999, rand=lambda: 0.0) == 120  # capped
    assert next_delay(schedule, 2, retry_after=1, rand=lambda: 0.0) == 30  # never shortened
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now=1767225600.0) == 60
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def attempts_made(store) -> int:
    return store.call(lambda: sum(d.attempt_count for d in Delivery.select()))


def test_worker_breaker_opens_probes_once_and_closes(pms_db):
    """Against a real endpoint: open after the threshold, no attempts while open, one probe, close."""
    store = pms_db.store
    with Receiver(always(503)) as receiver:
        ids = [add_event(store, entity_id=i) for i in range(10)]
        settings = delivery_settings(
            receiver.url,
            breaker_failure_threshold=3,
            breaker_recovery_seconds=2,
            retry_schedule=(0,) * 20,
            delivery_concurrency=4,
        )
        with running_worker(settings, store) as worker:
            wait_until(lambda: worker.breaker.state != STATE_CLOSED, message="breaker open")
            status = wait_until(
                lambda: (lambda s: s if s["breaker"]["state"] == "open" else None)(
                    store.call(webhook_status, CRM_ENDPOINT_ID)
                ),
                message="open state in the database",
            )
            assert status["breaker"]["failure_count"] == 3 and status["breaker"]["opened_at"]
            assert [w["worker_id"] for w in status["breaker"]["workers"]] == [worker.worker_id]
            # While open, events wait: none failed, and every attempt counted is one the receiver saw.
            # Claims the breaker held back are handed back as pending, not failed. Both at once: a
            # straggler still on its way to the receiver keeps its event "delivering".
            wait_until(
                lambda: set(statuses(store).values()) == {PENDING} and attempts_made(store) == receiver.count(),
                message="stragglers recorded, claims back",
            )
            before_probe = receiver.count()
            assert 3 <= before_probe <= 6
            wait_until(lambda: receiver.count() == before_probe + 1, timeout=10, message="the probe")
            # The receiver counts the probe as it arrives; its failure reaches the breaker just after.
            wait_until(lambda: worker.breaker.state == STATE_OPEN, message="open again after the failed probe")
            # Recovery: the next probe takes 0.3 s to answer; nothing else goes out meanwhile.
            receiver.behaviour = slow(0.3)
            wait_until(lambda: set(statuses(store).values()) == {DELIVERED}, timeout=15, message="recovery")
            assert worker.breaker.state == STATE_CLOSED
            wait_until(
                lambda: store.call(webhook_status, CRM_ENDPOINT_ID)["breaker"]["state"] == "closed",
                message="closed state in the database",
            )
        history = store.call(
            lambda: [(t.from_state, t.to_state) for t in BreakerTransition.select().order_by(BreakerTransition.id)]
        )
        assert history[0] == ("closed", "open") and history[-1] == ("half_open", "closed")
        assert ("open", "half_open") in history and ("half_open", "open") in history
        probe, after = receiver.received[before_probe + 1], receiver.received[before_probe + 2]
        assert after.at - probe.at >= 0.29
        assert receiver.count() == before_probe + 1 + 10
        assert all(receiver.hits[i] >= 1 for i in ids)
