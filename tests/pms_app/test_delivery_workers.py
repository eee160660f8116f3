"""Several workers on one database, and a worker killed mid-delivery (real processes)."""

from __future__ import annotations

import signal

from pms_app.models import DELIVERED, DELIVERING, DeliveryAttempt
from tests.support.delivery import SECRET, add_event, delivery_settings, event, running_worker, statuses
from tests.support.processes import start_module
from tests.support.receivers import Receiver, Reply, slow, wait_until


def test_two_workers_claim_each_event_once(pms_db):
    store = pms_db.store
    with Receiver(slow(0.002)) as receiver:
        ids = [add_event(store, entity_id=i) for i in range(500)]
        settings = delivery_settings(receiver.url, delivery_concurrency=4)
        with running_worker(settings, store) as first, running_worker(settings, store) as second:
            wait_until(lambda: set(statuses(store).values()) == {DELIVERED}, timeout=60, message="500 events delivered")
        assert sorted(receiver.hits) == sorted(ids)
        assert set(receiver.hits.values()) == {1}  # each sent exactly once
    by_worker = store.call(lambda: {a.worker_id for a in DeliveryAttempt.select(DeliveryAttempt.worker_id)})
    assert by_worker == {first.worker_id, second.worker_id}
    assert store.call(lambda: DeliveryAttempt.select().count()) == 500


def worker_env(pms_db, receiver, **extra) -> dict:
    return {
        "DATABASE_URL": pms_db.url,
        "CRM_WEBHOOK_URL": receiver.url,
        "CRM_WEBHOOK_SECRET": SECRET,
        "DELIVERY_LEASE_SECONDS": "2",
        "DELIVERY_TIMEOUT_SECONDS": "30",
        "WEBHOOK_RETRY_SCHEDULE": "0,0",
        **extra,
    }


def test_a_worker_killed_mid_delivery_is_taken_over(pms_db, tmp_path):
    store = pms_db.store
    # The first request hangs (the worker is killed while waiting for it); later ones succeed.
    with Receiver(lambda n, req: Reply(delay=30) if n == 0 else Reply()) as receiver:
        event_id = add_event(store)
        doomed = start_module(["pms_app", "worker"], worker_env(pms_db, receiver), str(tmp_path / "a.log"))
        try:
            wait_until(lambda: receiver.count() == 1, timeout=20, message="the doomed worker's attempt")
            assert event(store, event_id).status == DELIVERING
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
        finally:
            if doomed.poll() is None:
                doomed.kill()
        successor = start_module(["pms_app", "worker"], worker_env(pms_db, receiver), str(tmp_path / "b.log"))
        try:
            wait_until(lambda: event(store, event_id).status == DELIVERED, timeout=30, message="takeover")
            successor.send_signal(signal.SIGTERM)
            assert successor.wait(20) == 0
        finally:
            if successor.poll() is None:
                successor.kill()
        assert receiver.hits_of(event_id) == 2  # at least once: sent again after the lease
    row = event(store, event_id)
    assert row.attempt_count == 1 and row.claimed_by is None
    log = (tmp_path / "b.log").read_text()
    assert "stopped" in log


def test_serve_runs_a_worker_in_process(pms_db, tmp_path):
    import json
    import urllib.request

    from tests.support.processes import free_port, wait_until_answers

    port = free_port()
    with Receiver() as receiver:
        process = start_module(
            ["pms_app"], {**worker_env(pms_db, receiver), "APP_PORT": str(port)}, str(tmp_path / "pms.log")
        )
        try:
            wait_until_answers(f"http://127.0.0.1:{port}/api/v1/health", process)
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/guests",
                method="POST",
                data=json.dumps({"email": "inproc@example.com", "name": "In Process"}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                guest = json.loads(response.read())["data"]
            wait_until(lambda: receiver.count() == 1, timeout=20, message="delivery by the in-process worker")

            def status_with_worker():
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/guests/webhook/status", timeout=10
                ) as response:
                    data = json.loads(response.read())["data"]
                return data if data["breaker"]["workers"] else None

            status = wait_until(status_with_worker, message="the worker in the status")
            process.send_signal(signal.SIGTERM)
            assert process.wait(20) == 0
        finally:
            if process.poll() is None:
                process.kill()
        assert receiver.envelopes()[0]["payload"] == guest
    assert len(status["breaker"]["workers"]) == 1 and status["breaker"]["state"] == "closed"
    assert status["outbox"]["delivered"] + status["outbox"]["delivering"] + status["outbox"]["pending"] == 1
