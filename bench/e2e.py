"""End-to-end delivery benchmark: PMS + delivery worker(s) + CRM as real processes on MariaDB.

It creates fresh databases, runs three measurements and drops the databases again:

(a) latency from a PMS commit to the CRM having applied it (the 2xx reached the worker), at a
    steady write rate (default 100 writes/s), p50/p99; ceiling: the same rate of signed
    webhooks sent straight to the CRM, so the ratio shows what the outbox path adds;
(b) drain: with the CRM stopped, N events are queued (default 20,000); the CRM starts and the
    backlog drains; events/s with 1 and 2 workers; ceiling: the CRM receiver's own throughput
    with the same number of concurrent senders, no PMS involved;
(c) claim cost: a claim's time with 1,000,000 delivered rows in the outbox vs 1,000, for due
    events of entities that have delivered history (random among 200,000) and of new entities.

Prints one JSON document. Flags scale every part down for a quick run, for example
``python bench/e2e.py --latency-seconds 5 --drain-events 2000 --claim-rows 20000``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import requests

import _path  # noqa: F401 - puts the repository root on sys.path

from core.signing import keys_from_secrets, signed_headers
from tests.support.databases import MySQLServer
from tests.support.processes import ModuleProcess, free_port, run_module
from tests.support.stats import percentile
from procstats import PeakRss, cpu_seconds  # same folder
from receiver import database_server_pid, drive, raw_request  # same folder

SECRET = "bench-secret"


# -- infrastructure -------------------------------------------------------------------------


class MariaDB(MySQLServer):
    """The benchmark's databases, named ``gs_bench_*`` (a test run's are ``gs_test_*``)."""

    def __init__(self, url: str):
        super().__init__(url, prefix="gs_bench")


class Proc(ModuleProcess):
    """A service of the benchmark, logging warnings and errors only, to ``<log_dir>/<label>.log``.
    With ``rss``, its peak resident memory is recorded there under ``kind`` (default: ``label``)
    as it stops."""

    def __init__(
        self, args: list[str], env: dict, log_dir: Path, label: str, rss: PeakRss | None = None, kind: str | None = None
    ):
        super().__init__(args, {"LOG_LEVEL": "WARNING", **env}, log_dir / f"{label}.log")
        self.rss, self.kind = rss, kind or label

    def stop(self, grace: float = 30.0) -> int:
        if self.rss is not None and self.process.poll() is None:
            self.rss.record(self.kind, self.process.pid)
        return super().stop(grace)


def guest_payload(guest_id: int, version: int = 1) -> dict:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "id": guest_id,
        "email": f"bench{guest_id}@example.com",
        "name": f"Bench Guest {guest_id}",
        "phone": None,
        "date_of_birth": None,
        "country": "PT",
        "version": version,
        "created_at": now,
        "updated_at": now,
    }


class Stack:
    """Fresh PMS and CRM databases, a CRM process, a PMS API and delivery worker processes."""

    def __init__(self, db: MariaDB, log_dir: Path, concurrency: int, rss: PeakRss | None = None):
        self.db = db
        self.log_dir = log_dir
        self.rss = rss or PeakRss()
        self.pms_db = db.create("pms")
        self.crm_db = db.create("crm")
        self.crm_port, self.pms_port = free_port(), free_port()
        self.crm_url = f"http://127.0.0.1:{self.crm_port}/api/v1/webhooks/pms"
        self.pms_env = {
            "DATABASE_URL": db.url(self.pms_db),
            "APP_PORT": str(self.pms_port),
            "CRM_WEBHOOK_URL": self.crm_url,
            "CRM_WEBHOOK_SECRET": SECRET,
            "DELIVERY_CONCURRENCY": str(concurrency),
            "BREAKER_RECOVERY_SECONDS": "1",
            "WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
            "DB_THREADS": "8",
            # Several workers on one host: no metrics port each (4002 would collide).
            "WORKER_METRICS_PORT": "0",
        }
        self.crm_env = {
            "DATABASE_URL": db.url(self.crm_db),
            "APP_PORT": str(self.crm_port),
            "WEBHOOK_SHARED_SECRET": SECRET,
        }
        run_module("pms_app", "migrate", env=self.pms_env, check=True)
        run_module("crm_app", "migrate", env=self.crm_env, check=True)
        self.crm: Proc | None = None
        self.pms: Proc | None = None
        self.workers: list[Proc] = []

    def start_crm(self) -> None:
        self.crm = Proc(["crm_app"], self.crm_env, self.log_dir, "crm", self.rss)
        self.crm.wait_http(f"http://127.0.0.1:{self.crm_port}/api/v1/health")

    def stop_crm(self) -> None:
        if self.crm:
            self.crm.stop()
            self.crm = None

    def start_pms_api(self) -> None:
        self.pms = Proc(["pms_app", "--no-worker"], self.pms_env, self.log_dir, "pms", self.rss, kind="pms_api")
        self.pms.wait_http(f"http://127.0.0.1:{self.pms_port}/api/v1/health")

    def start_workers(self, n: int) -> None:
        for i in range(n):
            self.workers.append(
                Proc(["pms_app", "worker"], self.pms_env, self.log_dir, f"worker{i}", self.rss, kind="worker")
            )
        time.sleep(0.5)  # let them connect and register
        for w in self.workers:
            if w.process.poll() is not None:
                raise RuntimeError(f"worker exited, see {w.log_path}")

    def stop_workers(self) -> None:
        for w in self.workers:
            w.stop()
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        if self.pms:
            self.pms.stop()
        self.stop_crm()

    def pms_query(self, sql: str, args=()) -> list:
        with self.db.connect(self.pms_db) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def backlog(self) -> int:
        return self.pms_query("SELECT COUNT(*) FROM delivery WHERE status IN ('pending','delivering')")[0][0]

    def wait_backlog_empty(self, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.backlog() == 0:
                return time.monotonic()
            time.sleep(0.05)
        raise TimeoutError("the backlog did not drain")


# -- (a) latency ----------------------------------------------------------------------------


def paced(rate: float, seconds: float, action, threads: int = 16) -> list:
    """Call ``action(i)`` at a steady ``rate`` for ``seconds``; returns the results in order."""
    total = int(rate * seconds)
    results = [None] * total
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        futures = []
        start = time.monotonic()
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append((i, pool.submit(action, i)))
        for i, future in futures:
            results[i] = future.result()
    return results


def measure_latency(stack: Stack, rate: float, seconds: float) -> dict:
    stack.start_crm()
    stack.start_pms_api()
    stack.start_workers(1)
    base = f"http://127.0.0.1:{stack.pms_port}/api/v1"
    local = threading.local()
    created: list[int] = []

    def session() -> requests.Session:
        if not hasattr(local, "s"):
            local.s = requests.Session()
        return local.s

    def write(i: int) -> int:
        if created and i % 4 == 3:  # one write in four updates an existing guest
            guest_id = random.choice(created)
            r = session().put(f"{base}/guests/{guest_id}", json={"name": f"Renamed {i}"}, timeout=10)
        else:
            r = session().post(f"{base}/guests", json={"email": f"lat{i}@example.com", "name": f"L {i}"}, timeout=10)
            if r.status_code == 201:
                created.append(r.json()["data"]["id"])
        return r.status_code

    # Warm up connections and the worker's loop, then run at the steady rate.
    paced(rate, 1.0, lambda i: write(10_000_000 + i))
    stack.wait_backlog_empty(60)
    since = stack.pms_query("SELECT COALESCE(MAX(seq), 0) FROM outbox_event")[0][0]
    codes = paced(rate, seconds, write)
    stack.wait_backlog_empty(120)
    rows = stack.pms_query(
        "SELECT e.occurred_at, a.started_at, a.duration_ms FROM outbox_event e "
        "JOIN delivery_attempt a ON a.event_id = e.id AND a.status_code BETWEEN 200 AND 299 "
        "WHERE e.seq > %s",
        (since,),
    )
    latencies = [((started - occurred).total_seconds() * 1000.0 + duration) for occurred, started, duration in rows]
    waits = [(started - occurred).total_seconds() * 1000.0 for occurred, started, _ in rows]
    sends = [float(duration) for _, _, duration in rows]

    # Ceiling: the same rate of signed webhooks straight to the CRM (its own apply latency).
    keys = keys_from_secrets([SECRET])

    def direct(i: int) -> float:
        event_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "type": "guest.created",
                "idempotency_key": event_id,
                "timestamp": int(time.time() * 1000),
                "payload": guest_payload(20_000_000 + i),
            }
        ).encode()
        t0 = time.monotonic()
        r = session().post(stack.crm_url, data=body, headers=signed_headers(keys, event_id, body), timeout=10)
        assert r.status_code in (200, 202), r.text
        return (time.monotonic() - t0) * 1000.0

    direct_ms = paced(rate, seconds, direct)
    stack.stop()
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "writes": len(codes),
        "write_errors": sum(1 for c in codes if c not in (200, 201)),
        "events_measured": len(latencies),
        "commit_to_applied_ms": {
            "p50": round(percentile(latencies, 50), 2),
            "p99": round(percentile(latencies, 99), 2),
            "max": round(max(latencies), 2),
        },
        "of_which_commit_to_send_ms": {"p50": round(percentile(waits, 50), 2), "p99": round(percentile(waits, 99), 2)},
        "of_which_send_ms": {"p50": round(percentile(sends, 50), 2), "p99": round(percentile(sends, 99), 2)},
        "ceiling_direct_to_crm_ms": {
            "p50": round(percentile(direct_ms, 50), 2),
            "p99": round(percentile(direct_ms, 99), 2),
        },
        "target_p99_ms": 50,
        "rss": stack.rss.report(),
    }


# -- (b) drain ------------------------------------------------------------------------------


def to_crm(cur, after_seq: int, status: str, delivered_at=None) -> None:
    """One delivery to endpoint 1 (the CRM) for each event written after ``after_seq``, as the
    PMS's fan-out writes it."""
    cur.execute(
        "INSERT INTO delivery (event_seq, event_id, endpoint_id, type, entity_id, entity_version, status,"
        " attempt_count, attempts_since_replay, next_attempt_at, next_trigger, created_at, delivered_at)"
        " SELECT seq, id, 1, type, entity_id, entity_version, %s, 0, 0, created_at, 'scheduled', created_at, %s"
        " FROM outbox_event WHERE seq > %s",
        (status, delivered_at, after_seq),
    )


def max_seq(cur) -> int:
    cur.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox_event")
    return cur.fetchone()[0]


def queue_events(stack: Stack, n: int, first_id: int) -> None:
    """Bulk-insert ``n`` committed ``guest.created`` changes into the PMS outbox."""
    now = dt.datetime.utcnow()
    rows = []
    for i in range(n):
        guest_id = first_id + i
        rows.append((str(uuid.uuid4()), "guest.created", guest_id, 1, json.dumps(guest_payload(guest_id)), now, now))
    with stack.db.connect(stack.pms_db) as conn, conn.cursor() as cur:
        for start in range(0, n, 2000):
            after = max_seq(cur)
            cur.executemany(
                "INSERT INTO outbox_event (id, type, entity_id, entity_version, payload, occurred_at,"
                " created_at) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                rows[start : start + 2000],
            )
            to_crm(cur, after, "pending")


def crm_ceiling(stack: Stack, n: int, senders: int, first_id: int) -> float:
    """Events/s the CRM receiver absorbs from ``senders`` concurrent keep-alive connections,
    driven by pre-signed raw requests (a client costing next to no CPU, so the CRM sets the pace)."""
    keys = keys_from_secrets([SECRET])
    raw = []
    for i in range(n):
        event_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "type": "guest.created",
                "idempotency_key": event_id,
                "timestamp": int(time.time() * 1000),
                "payload": guest_payload(first_id + i),
            }
        ).encode()
        raw.append((event_id, raw_request(urlparse(stack.crm_url).path, body, signed_headers(keys, event_id, body))))
    result = asyncio.run(drive(stack.crm_port, raw, senders))
    assert set(result["statuses"]) <= {"200", "202"}, result["statuses"]
    return result["requests"] / result["seconds"]


def measure_drain(db: MariaDB, log_dir: Path, events: int, worker_counts: list[int], concurrency: int) -> dict:
    out = {"events": events, "concurrency_per_worker": concurrency, "runs": []}
    for n_workers in worker_counts:
        stack = Stack(db, log_dir, concurrency)
        try:
            stack.start_workers(n_workers)  # the CRM is down
            queue_events(stack, events, first_id=30_000_000)
            stack.start_crm()
            pids = {"workers": [w.process.pid for w in stack.workers], "crm": [stack.crm.process.pid]}
            server = database_server_pid()
            if server:  # anything else the database serves meanwhile counts too
                pids["database_server"] = [server]
            cpu0 = {kind: sum(cpu_seconds(pid) or 0.0 for pid in ids) for kind, ids in pids.items()}
            t0 = time.monotonic()
            t1 = stack.wait_backlog_empty(600)
            rate = events / (t1 - t0)
            cpu = {
                kind: round(1e6 * (sum(cpu_seconds(pid) or 0.0 for pid in ids) - cpu0[kind]) / events)
                for kind, ids in pids.items()
            }
            stack.stop_workers()
            ceiling = crm_ceiling(stack, min(events, 5000), n_workers * concurrency, first_id=40_000_000)
        finally:
            stack.stop()
        out["runs"].append(
            {
                "workers": n_workers,
                "seconds": round(t1 - t0, 2),
                "events_per_s": round(rate),
                "crm_ceiling_events_per_s": round(ceiling),
                "ratio_to_ceiling": round(rate / ceiling, 2),
                "cpu_us_per_event": cpu,
                "rss": stack.rss.report(),
            }
        )
    out["target_events_per_s_with_1_worker"] = 1500
    return out


# -- (c) claim cost -------------------------------------------------------------------------


def measure_claim_cost(db: MariaDB, small: int, large: int, samples: int) -> dict:
    from core.db import Store, open_database
    from core.migrations import migrate
    from pms_app.delivery import claims
    from pms_app.models import db as proxy

    name = db.create("claim")
    database = open_database(db.url(name), max_connections=4)
    migrate(database, "pms")
    proxy.initialize(database)
    store = Store(database, max_workers=1, name="bench")
    conn = db.connect(name)
    inserted = 0

    def add_delivered(target: int) -> None:
        nonlocal inserted
        old = dt.datetime.utcnow() - dt.timedelta(days=1)
        with conn.cursor() as cur:
            while inserted < target:
                batch = min(10_000, target - inserted)
                after = max_seq(cur)
                cur.executemany(
                    "INSERT INTO outbox_event (id, type, entity_id, entity_version, payload, occurred_at,"
                    " created_at) VALUES (%s,'guest.updated',%s,%s,'{\"id\":1}',%s,%s)",
                    [(str(uuid.uuid4()), random.randrange(200_000), inserted + k + 1, old, old) for k in range(batch)],
                )
                to_crm(cur, after, "delivered", old)
                inserted += batch
        with conn.cursor() as cur:
            cur.execute("ANALYZE TABLE outbox_event")
            cur.execute("ANALYZE TABLE delivery")

    fresh_ids = iter(range(1_000_000, 10_000_000))

    def timed_claims(known_entities: bool) -> dict:
        """Claims of 8 among ``samples * 8`` due events, for entities with delivered history
        (random among the delivered rows' 200,000 entities) or for entities without any."""
        now = dt.datetime.utcnow()
        entity = (lambda: random.randrange(200_000)) if known_entities else (lambda: next(fresh_ids))
        with conn.cursor() as cur:
            after = max_seq(cur)
            cur.executemany(
                "INSERT INTO outbox_event (id, type, entity_id, entity_version, payload, occurred_at,"
                " created_at) VALUES (%s,'guest.updated',%s,1,'{\"id\":1}',%s,%s)",
                [(str(uuid.uuid4()), entity(), now, now) for _ in range(samples * 8)],
            )
            to_crm(cur, after, "pending")
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            batch = store.call(claims.claim_due, "bench", 8, 60, transaction=False)
            times.append((time.perf_counter() - t0) * 1000.0)
            with conn.cursor() as cur:
                ids = ",".join(str(c.seq) for c in batch)
                cur.execute(f"UPDATE delivery SET status='delivered', delivered_at=%s WHERE id IN ({ids})", (now,))
        return {"median_ms": round(statistics.median(times), 3), "p90_ms": round(percentile(times, 90), 3)}

    def both() -> dict:
        return {"known_entities": timed_claims(True), "new_entities": timed_claims(False)}

    try:
        add_delivered(small)
        at_small = both()
        add_delivered(large)
        at_large = both()
    finally:
        conn.close()
        store.close()
    return {
        "delivered_rows_small": small,
        "delivered_rows_large": large,
        "claims_per_size": samples,
        "small": at_small,
        "large": at_large,
        "ratio_median": {
            kind: round(at_large[kind]["median_ms"] / at_small[kind]["median_ms"], 2) for kind in at_small
        },
        "target_ratio": 1.5,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql-url", default=os.environ.get("TEST_MYSQL_URL") or "mysql://root@127.0.0.1:3306/")
    parser.add_argument("--rate", type=float, default=100.0, help="writes/s for (a)")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--drain-events", type=int, default=20_000)
    parser.add_argument("--drain-workers", default="1,2", help="worker counts for (b), comma-separated")
    parser.add_argument("--concurrency", type=int, default=8, help="DELIVERY_CONCURRENCY of each worker")
    parser.add_argument("--claim-rows", type=int, default=1_000_000, help="delivered rows for the large case of (c)")
    parser.add_argument("--claim-samples", type=int, default=300)
    parser.add_argument("--only", default="a,b,c", help="which parts to run, e.g. a,c")
    parser.add_argument("--log-dir", default=None, help="where process logs go (default: a temporary folder)")
    args = parser.parse_args()

    import tempfile

    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="guestsync-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    db = MariaDB(args.mysql_url)
    parts = set(args.only.split(","))
    result: dict = {"benchmark": "e2e", "cpu_count": os.cpu_count()}
    started = time.monotonic()
    try:
        if "a" in parts:
            stack = Stack(db, log_dir, args.concurrency)
            try:
                result["latency"] = measure_latency(stack, args.rate, args.latency_seconds)
            finally:
                stack.stop()
        if "b" in parts:
            counts = [int(x) for x in args.drain_workers.split(",") if x]
            result["drain"] = measure_drain(db, log_dir, args.drain_events, counts, args.concurrency)
        if "c" in parts:
            result["claim_cost"] = measure_claim_cost(db, 1000, args.claim_rows, args.claim_samples)
    finally:
        db.drop_all()
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
