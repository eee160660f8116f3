"""Delivery worker cost: CPU per delivered event and events per dispatcher turn, on MariaDB.

It creates a fresh PMS database, queues N committed events with one delivery each (as the
fan-out at commit writes them), starts a bare receiver process (answering 202 after
``--latency-ms``) and runs one ``DeliveryWorker`` in this process until the backlog is gone. It
prints the worker's CPU per event, split by thread (the dispatcher's transactions, the senders'
HTTP, the maintenance loop), how many dispatcher turns (transactions) it took, and events/s
beside the receiver's ceiling, ``DELIVERY_CONCURRENCY / latency``. No CRM runs, so the figures
are the worker's own, whatever else shares the machine.

    python bench/worker.py                   # 10,000 events, concurrency 8, a 2 ms receiver
    python bench/worker.py --concurrency 32
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import _path  # noqa: F401 - puts the repository root on sys.path
from e2e import MariaDB, Proc, queue_events  # same folder
from procstats import peak_rss_mb  # same folder

from tests.support.processes import free_port, run_module


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's live threads, summed by thread name without its number."""
    names = {t.native_id: re.sub(r"[-_]?\d+$", "", t.name) for t in threading.enumerate()}
    per: dict[str, float] = collections.Counter()
    for task in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{task}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        per[names.get(int(task), "other")] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return per


class Backlog:
    """What ``queue_events`` needs of a stack: the database and its name."""

    def __init__(self, db: MariaDB, name: str):
        self.db, self.pms_db = db, name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql-url", default=os.environ.get("TEST_MYSQL_URL") or "mysql://root@127.0.0.1:3306/")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8, help="DELIVERY_CONCURRENCY")
    parser.add_argument("--latency-ms", type=float, default=2.0, help="the receiver's time to answer")
    args = parser.parse_args()

    from pms_app.app import make_store
    from pms_app.config import PmsSettings
    from pms_app.delivery import claims
    from pms_app.delivery.worker import DeliveryWorker

    log_dir = Path(tempfile.mkdtemp(prefix="guestsync-bench-"))
    db = MariaDB(args.mysql_url)
    port = free_port()
    receiver = Proc(
        ["fanout", "--serve-receiver", str(port), "--latency-ms", str(args.latency_ms)],
        {"PYTHONPATH": str(Path(__file__).resolve().parent)},
        log_dir,
        "receiver",
    )
    store = None
    try:
        receiver.wait_http(f"http://127.0.0.1:{port}/health")
        name = db.create("worker")
        env = {
            "DATABASE_URL": db.url(name),
            "CRM_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "CRM_WEBHOOK_SECRET": "bench-secret",
            "DELIVERY_CONCURRENCY": str(args.concurrency),
            "ENV_FILE": os.devnull,
            "WORKER_METRICS_PORT": "0",
        }
        run_module("pms_app", "migrate", env=env, check=True)
        queue_events(Backlog(db, name), args.events, first_id=1)
        settings = PmsSettings.from_env(env)
        store = make_store(settings)

        turns = {"count": 0, "settled": 0}
        turn_ms: list[float] = []
        cycle = claims.cycle

        def counted(worker_id, outcomes, *rest, **kwargs):
            turns["count"] += 1
            turns["settled"] += len(outcomes)
            t0 = time.perf_counter()
            try:
                return cycle(worker_id, outcomes, *rest, **kwargs)
            finally:
                turn_ms.append((time.perf_counter() - t0) * 1000.0)

        claims.cycle = counted  # the dispatcher looks it up at every turn
        before = thread_cpu()
        started = time.monotonic()
        worker = DeliveryWorker(settings, store).start()
        with db.connect(name) as conn:
            while True:
                with conn.cursor() as cur:
                    cur.execute("SELECT COUNT(*) FROM delivery WHERE status IN ('pending','delivering')")
                    if cur.fetchone()[0] == 0:
                        break
                time.sleep(0.05)
        elapsed = time.monotonic() - started
        after = thread_cpu()
        rss = peak_rss_mb(os.getpid())
        worker.stop()
    finally:
        if store is not None:
            store.close()
        receiver.stop()
        db.drop_all()
    per_thread = {
        k: round(1e6 * (v - before.get(k, 0.0)) / args.events) for k, v in after.items() if k.startswith("delivery")
    }
    ceiling = args.concurrency / (args.latency_ms / 1000.0) if args.latency_ms else None
    print(
        json.dumps(
            {
                "benchmark": "delivery_worker",
                "events": args.events,
                "concurrency": args.concurrency,
                "latency_ms": args.latency_ms,
                "cpus": os.cpu_count(),
                "events_per_s": round(args.events / elapsed),
                "ceiling_events_per_s": round(ceiling) if ceiling else None,
                "ratio_to_ceiling": round(args.events / elapsed / ceiling, 2) if ceiling else None,
                "worker_cpu_us_per_event": sum(per_thread.values()),
                "cpu_us_per_event_by_thread": per_thread,
                "turns": turns["count"],
                "events_per_turn": round(turns["settled"] / turns["count"], 2) if turns["count"] else None,
                # Wall time of one turn's transaction: how long the senders must have work queued for.
                "turn_ms": {
                    "p50": round(statistics.median(turn_ms), 2),
                    "p90": round(sorted(turn_ms)[int(0.9 * (len(turn_ms) - 1))], 2),
                }
                if turn_ms
                else None,
                "peak_rss_mb_of_this_process": rss,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
