"""The dispatcher one turn at a time (``run_once``) and its pacing (``Pacer``), each on its own.

Turns are driven on a worker that was never started (no dispatcher thread), through its public
``run_once()`` and ``pacer`` only; the pacing is checked with a fake clock.
"""

from __future__ import annotations

import threading

from pms_app.delivery.pacing import Pacer, Turn, WorkerTiming
from pms_app.delivery.worker import DeliveryWorker
from pms_app.models import DELIVERED
from tests.support.delivery import FAST, add_event, delivery_settings, statuses
from tests.support.receivers import Receiver, accept, always, wait_until

TIMING = WorkerTiming(poll_min=0.01, poll_max=0.16, busy_window=1.0, db_retry=0.5)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_turns_back_off_from_poll_min_to_poll_max():
    pacer = Pacer(TIMING, clock=Clock())
    assert [pacer.pause(Turn(free=8)) for _ in range(6)] == [0.01, 0.02, 0.04, 0.08, 0.16, 0.16]


def test_work_means_no_pause_then_poll_min_while_busy_then_back_off_again():
    clock = Clock()
    pacer = Pacer(TIMING, clock=clock)
    for _ in range(4):
        pacer.pause(Turn(free=8))  # backed off to 0.16
    assert pacer.pause(Turn(claimed=3, free=8)) == 0.0  # found work: the next turn at once
    clock.now += 0.5
    assert pacer.pause(Turn(free=8)) == 0.01  # work came lately: keep looking often
    assert pacer.pause(Turn(settled=2, free=8)) == 0.01
    clock.now += 0.6  # the busy window has passed
    assert [pacer.pause(Turn(free=8)) for _ in range(3)] == [0.01, 0.02, 0.04]  # from poll_min again


def test_breakers_full_slots_failures_and_stopping_each_have_their_pause():
    pacer = Pacer(TIMING, clock=Clock())
    assert pacer.pause(Turn(free=8, probe_in=0.05)) == 0.05  # wait for the probe
    assert pacer.pause(Turn(free=8, probe_in=30.0)) == 0.16  # but look again within poll_max
    assert pacer.pause(Turn(free=8, probe_in=0.0)) == 0.01  # never spin
    assert pacer.pause(Turn(free=0)) == 0.16  # all slots busy: a finish wakes it
    assert pacer.pause(Turn(free=8, failed=True)) == 0.5  # database trouble
    assert pacer.pause(Turn(done=True)) == 0.0


def test_a_wake_cuts_the_pause_short_and_a_new_turn_forgets_older_wakes():
    pacer = Pacer(TIMING)
    pacer.turn_started()
    threading.Timer(0.05, pacer.wake).start()  # an event committed while the dispatcher sleeps
    assert pacer.sleep(60) is True  # woken, not a minute later
    pacer.turn_started()  # the turn after the wake answers it
    assert pacer.sleep(0.01) is False


def run_until_settled(worker: DeliveryWorker, expected: int) -> list[Turn]:
    """Turns until ``expected`` outcomes were written (the senders finish on their own threads)."""
    turns: list[Turn] = []

    def settled_enough() -> bool:
        worker.pacer.sleep(0.02)  # woken as soon as a sender hands an outcome back
        worker.pacer.turn_started()
        turns.append(worker.run_once())
        return sum(t.settled for t in turns) >= expected

    wait_until(settled_enough, interval=0, message=f"{expected} outcomes settled")
    return turns


def test_one_turn_claims_the_due_deliveries_and_later_turns_settle_them(pms_db):
    store = pms_db.store
    with Receiver(accept) as receiver:
        worker = DeliveryWorker(delivery_settings(receiver.url), store, timing=FAST)  # not started
        try:
            ids = [add_event(store, entity_id=i) for i in range(3)]
            first = worker.run_once()
            assert first.found_work and first.claimed == 3 and first.settled == 0
            turns = run_until_settled(worker, 3)
            assert not any(t.found_work for t in turns)  # nothing more was due
            assert statuses(store) == {i: DELIVERED for i in ids}
            assert sorted(r.webhook_id for r in receiver.received) == sorted(ids)
            idle = worker.run_once()
            assert not idle.found_work and idle.free == worker.max_unsettled and idle.probe_in is None
        finally:
            worker.stop()
        assert worker.run_once().done  # stopped with nothing in flight: the dispatcher may leave


def test_a_turn_with_every_breaker_open_says_when_the_probe_is_due(pms_db):
    store = pms_db.store
    with Receiver(always(500)) as receiver:
        worker = DeliveryWorker(
            delivery_settings(receiver.url, breaker_failure_threshold=1, breaker_recovery_seconds=30),
            store,
            timing=FAST,
        )
        try:
            add_event(store)
            assert worker.run_once().claimed == 1
            run_until_settled(worker, 1)  # the failure opened the breaker
            held = worker.run_once()
            assert not held.found_work
            assert held.probe_in is not None and 20 < held.probe_in <= 30
            assert Pacer(FAST).pause(held) == FAST.poll_max
            assert receiver.count() == 1  # the retry waits for the probe
        finally:
            worker.stop()
