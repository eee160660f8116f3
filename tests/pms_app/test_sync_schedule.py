"""The reconciliation lease and schedule: one process at a time, taken over after a death, on time.

Clocks are fake (every lease function takes ``now``; the schedule takes a clock), except in
the last test, where a real delivery worker runs the schedule against a real CRM app.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest

from crm_app.app import make_app as make_crm_app
from crm_app.config import CrmSettings
from pms_app.config import PmsSettings
from pms_app.delivery.worker import DeliveryWorker
from pms_app.services import guests
from pms_app.sync import lease, runs
from pms_app.sync.models import SyncLease, SyncRun
from pms_app.sync.schedule import LeaseKeeper, ReconcileSchedule
from pms_app.sync.service import Interrupted, reconcile
from tests.support.delivery import FAST, SECRET, delivery_settings
from tests.support.receivers import ServedApp, wait_until
from tests.support.sync import crm_side, deliver_pending, lose, manifests, pending_events, pms_side

T0 = dt.datetime(2030, 1, 1, 12, 0, 0)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


class Clock:
    def __init__(self, now: dt.datetime = T0):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_one_holder_at_a_time_and_takeover_after_expiry(pms_db):
    call = pms_db.store.call
    assert call(lease.acquire, "a", at(0), 60)
    assert not call(lease.acquire, "b", at(30), 60)
    assert call(lease.renew, "a", at(50), 60)  # a keeps it: now until 110
    assert not call(lease.acquire, "b", at(100), 60)
    assert call(lease.acquire, "b", at(111), 60)  # a died: b takes over
    assert not call(lease.renew, "a", at(112), 60)  # a learns it lost the lease
    call(lease.release, "a")  # and cannot release b's
    assert call(lease.holder_of) == ("b", at(171))
    call(lease.release, "b")
    assert call(lease.acquire, "a", at(112), 60)


def test_a_takeover_closes_the_dead_holders_run(pms_db):
    call = pms_db.store.call
    assert call(lease.acquire, "dead", at(0), 60)
    run_id = call(runs.start_run, "guest", "schedule", False)
    assert call(lease.acquire, "alive", at(61), 60)
    assert call(runs.get_run, run_id)["status"] == "abandoned"


def test_the_schedule_is_shared_and_due_once_per_period(pms_db):
    call = pms_db.store.call
    call(lease.keep_schedule, at(0), 600)  # the first worker starts it
    call(lease.keep_schedule, at(5), 600)  # others leave it alone
    assert call(lambda: SyncLease.get().next_due_at) == at(600)
    assert not call(lease.acquire, "a", at(599), 60, True)
    assert call(lease.acquire, "a", at(600), 60, True)
    call(lease.release, "a", at(1200))
    assert not call(lease.acquire, "b", at(601), 60, True)  # already done for this period
    call(lease.keep_schedule, at(700), 60)  # the period was shortened
    assert call(lambda: SyncLease.get().next_due_at) == at(760)


def schedule(pms_db, crm_db, holder: str, clock: Clock, every: int = 600, **kwargs) -> ReconcileSchedule:
    settings = dataclasses.replace(PmsSettings(), reconcile_every_seconds=every)
    return ReconcileSchedule(
        settings, pms_db.store, holder, clock=clock, crm_factory=lambda: crm_side(crm_db.store), **kwargs
    )


def test_a_worker_runs_every_kind_when_due_and_then_waits_a_period(pms_db, crm_db):
    clock = Clock()
    worker = schedule(pms_db, crm_db, "worker-a", clock)
    pms_db.store.call(guests.create_guest, {"email": "due@example.com", "name": "Due"})
    lose(pms_db.store, pending_events(pms_db.store))
    assert worker.tick() is None  # starts the schedule: due in one period
    clock.advance(599)
    assert worker.tick() is None
    clock.advance(1)
    done = worker.tick()
    assert [(r["kind"], r["trigger"], r["status"], r["repaired"]) for r in done] == [
        ("guest", "schedule", "completed", 1),
        ("reservation", "schedule", "completed", 0),
    ]
    assert pms_db.store.call(lease.holder_of) == (None, None)  # released
    clock.advance(599)
    assert worker.tick() is None
    clock.advance(1)
    assert len(worker.tick()) == 2


def test_two_workers_never_reconcile_at_once(pms_db, crm_db):
    """Each worker takes the lease on its own database connection, at the same moment."""
    call = pms_db.store.call
    for round_ in range(10):
        barrier = threading.Barrier(2)
        won: list[str] = []

        def take(holder: str, barrier=barrier, won=won, now=round_ * 1000) -> None:
            barrier.wait()
            if call(lease.acquire, holder, at(now), 60):
                won.append(holder)

        threads = [threading.Thread(target=take, args=(h,)) for h in ("w1", "w2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1, won
        call(lease.release, won[0])

    clock = Clock(at(10_000))
    workers = [schedule(pms_db, crm_db, f"w{i}", clock) for i in (1, 2)]
    call(lease.keep_schedule, at(0), 600)  # long due
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def tick(worker: ReconcileSchedule) -> None:
        barrier.wait()
        results[worker.holder] = worker.tick()

    threads = [threading.Thread(target=tick, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r is None for r in results.values()) == [False, True]
    assert call(lambda: SyncRun.select().count()) == 2  # one guest run and one reservation run


def test_a_run_whose_lease_was_taken_over_stops(pms_db, crm_db):
    store = pms_db.store
    store.call(guests.create_guest, {"email": "slow@example.com", "name": "Slow"})
    assert store.call(lease.acquire, "slow-worker", at(0), 30)
    assert store.call(lease.acquire, "other", at(31), 30)  # slow-worker stalled past its lease
    keeper = LeaseKeeper(store, "slow-worker", lease_seconds=0.0, clock=lambda: at(32))
    done = reconcile(store, crm_side(crm_db.store), keep_alive=keeper)
    assert [(r["status"], r["error"]) for r in done] == [
        ("failed", "the reconciliation lease was taken over by another process")
    ]
    stopping = LeaseKeeper(store, "other", 30, should_stop=lambda: True)
    with pytest.raises(Interrupted):
        stopping()


def test_a_schedule_of_zero_never_runs(pms_db, crm_db):
    worker = schedule(pms_db, crm_db, "off", Clock(), every=0).start()
    assert worker._thread is None and worker.tick() is None
    worker.stop()
    assert pms_db.store.call(lambda: SyncLease.select().count()) == 0


def test_a_delivery_worker_reconciles_on_schedule_and_delivers_the_repairs(pms_db, crm_db):
    store = pms_db.store
    crm = ServedApp(lambda: make_crm_app(CrmSettings(webhook_secrets=(SECRET,)), store=crm_db.store)).start()
    try:
        made = [store.call(guests.create_guest, {"email": f"w{i}@example.com", "name": f"W {i}"}) for i in range(3)]
        deliver_pending(store, crm_db.store)
        store.call(guests.update_guest, made[1]["id"], {"name": "Lost on the way"})
        lose(store, pending_events(store))
        settings = delivery_settings(crm.url, reconcile_every_seconds=1)
        worker = DeliveryWorker(settings, store, timing=FAST)
        worker.reconcile.check_every = 0.05
        worker.start()
        try:
            wait_until(
                lambda: store.call(lambda: SyncRun.select().where(SyncRun.repaired > 0).count()),
                timeout=20,
                message="a scheduled run that repaired something",
            )
            wait_until(
                lambda: manifests(pms_side(store)) == manifests(crm_side(crm_db.store)),
                timeout=20,
                message="the repair delivered by the worker",
            )
        finally:
            worker.stop()
        assert worker.reconcile._thread is None
        run = store.call(lambda: SyncRun.select().where(SyncRun.repaired > 0).get().to_api())
        assert (run["trigger"], run["kind"], run["drifted"]) == ("schedule", "guest", 1)
    finally:
        crm.stop()
