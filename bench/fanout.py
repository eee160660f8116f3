"""Fan-out benchmark: one PMS delivery worker feeding three local receivers, one of them rate-limited.

It runs twice on fresh MariaDB databases, in this one invocation, and drops them afterwards:

(1) single endpoint: N events (default 20,000) to receiver A alone. Its events/s is the
    ceiling an unlimited endpoint reaches from this worker on this machine, measured now;
(2) fan-out: the same N events to A, B and C (C with ``rate_limit_per_second`` 200), all queued
    before the worker starts. It reports events/s per endpoint: A and B must stay within 10% of
    (1), i.e. C's limit (and its deliveries waiting for tokens) must not slow them; C must stay
    near its limit.

The receivers are bare Tornado processes answering 202 after ``--latency-ms`` (a receiver's
own work), so one endpoint's rate is bounded by its ``max_in_flight`` divided by that latency,
as with real receivers. The events are written straight into the outbox with one delivery per
endpoint (as the fan-out at commit writes them); the endpoints are made through the PMS's
endpoints API. Rates come from the deliveries' own ``delivered_at`` (first to last), so the
worker's start-up does not count. C is measured over at least ``--limited-seconds``.

Prints one JSON document. ``python bench/fanout.py --events 5000`` is a quicker run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

import _path  # noqa: F401 - puts the repository root on sys.path
from e2e import MariaDB, Proc, guest_payload  # same folder
from procstats import PeakRss, cpu_seconds  # same folder

from tests.support.processes import free_port, run_module

SECRET = "bench-secret"
PATH = "/hook"
LIMITED_RATE = 200.0
TOLERANCE = 0.10


# -- receivers ------------------------------------------------------------------------------


def serve_receiver(port: int, latency_ms: float) -> None:
    """A Tornado app that answers every webhook 202 after ``latency_ms``, and nothing else."""
    import tornado.ioloop
    import tornado.web

    delay = latency_ms / 1000.0

    class Hook(tornado.web.RequestHandler):
        async def post(self) -> None:
            if delay:
                await asyncio.sleep(delay)
            self.set_status(202)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(b'{"data":{"status":"accepted"}}')

    class Health(tornado.web.RequestHandler):
        def get(self) -> None:
            self.finish({"status": "ok"})

    app = tornado.web.Application([(PATH, Hook), ("/health", Health)], log_function=lambda h: None)
    app.listen(port, "127.0.0.1")
    tornado.ioloop.IOLoop.current().start()


class Receiver:
    """One receiver process (this file with ``--serve-receiver``), run like the services."""

    def __init__(self, latency_ms: float, log_dir: Path, label: str, rss: PeakRss):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{PATH}"
        self.process = Proc(
            ["fanout", "--serve-receiver", str(self.port), "--latency-ms", str(latency_ms)],
            {"PYTHONPATH": str(Path(__file__).resolve().parent)},
            log_dir,
            f"receiver-{label}",
            rss,
            kind="receiver",
        )
        self.process.wait_http(f"http://127.0.0.1:{self.port}/health")

    def stop(self) -> None:
        self.process.stop()


# -- one run ----------------------------------------------------------------------------------


class FanoutRun:
    """Fresh PMS database; endpoint 1 is receiver A; more endpoints through the API."""

    def __init__(self, db: MariaDB, log_dir: Path, first: Receiver, concurrency: int, max_in_flight: int, rss: PeakRss):
        self.db = db
        self.rss = rss
        self.log_dir = log_dir
        self.name = db.create("fanout")
        self.port = free_port()
        self.env = {
            "DATABASE_URL": db.url(self.name),
            "APP_PORT": str(self.port),
            "CRM_WEBHOOK_URL": first.url,
            "CRM_WEBHOOK_SECRET": SECRET,
            "DELIVERY_CONCURRENCY": str(concurrency),
            "WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1",
            "DB_THREADS": "4",
        }
        run_module("pms_app", "migrate", env=self.env, check=True)
        self.max_in_flight = max_in_flight
        self.api: Proc | None = Proc(
            ["pms_app", "--no-worker"], self.env, log_dir, f"pms-{self.name}", rss, kind="pms_api"
        )
        self.api.wait_http(f"http://127.0.0.1:{self.port}/api/v1/health")
        self.endpoints = [1]
        self.worker: Proc | None = None
        # Endpoint 1 with the same max_in_flight as the others, so every endpoint has equal room.
        self._call("PUT", "/endpoints/1", {"max_in_flight": max_in_flight})

    def _call(self, method: str, path: str, body: dict) -> dict:
        response = requests.request(
            method, f"http://127.0.0.1:{self.port}/api/v1{path}", json=body, timeout=30, headers={"X-Operator": "bench"}
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()["data"]

    def add_endpoint(self, name: str, receiver: Receiver, rate: float | None = None) -> int:
        made = self._call(
            "POST",
            "/endpoints",
            {"name": name, "url": receiver.url, "rate_limit_per_second": rate, "max_in_flight": self.max_in_flight},
        )
        self.endpoints.append(made["id"])
        return made["id"]

    def queue(self, n: int) -> None:
        """``n`` committed ``guest.created`` changes, each with one pending delivery per endpoint."""
        now = dt.datetime.utcnow()
        with self.db.connect(self.name) as conn, conn.cursor() as cur:
            for start in range(0, n, 2000):
                cur.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox_event")
                after = cur.fetchone()[0]
                cur.executemany(
                    "INSERT INTO outbox_event (id, type, entity_id, entity_version, payload, occurred_at,"
                    " created_at) VALUES (%s,'guest.created',%s,1,%s,%s,%s)",
                    [
                        (str(uuid.uuid4()), 50_000_000 + i, json.dumps(guest_payload(50_000_000 + i)), now, now)
                        for i in range(start, min(n, start + 2000))
                    ],
                )
                for endpoint_id in self.endpoints:
                    cur.execute(
                        "INSERT INTO delivery (event_seq, event_id, endpoint_id, type, entity_id, entity_version,"
                        " status, attempt_count, attempts_since_replay, next_attempt_at, next_trigger, created_at)"
                        " SELECT seq, id, %s, type, entity_id, entity_version, 'pending', 0, 0, created_at,"
                        " 'scheduled', created_at FROM outbox_event WHERE seq > %s",
                        (endpoint_id, after),
                    )

    def delivered(self) -> dict[int, tuple[int, dt.datetime | None, dt.datetime | None]]:
        with self.db.connect(self.name) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT endpoint_id, COUNT(*), MIN(delivered_at), MAX(delivered_at) FROM delivery"
                " WHERE status = 'delivered' GROUP BY endpoint_id"
            )
            return {row[0]: (row[1], row[2], row[3]) for row in cur.fetchall()}

    def failed(self) -> int:
        with self.db.connect(self.name) as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM delivery WHERE status = 'failed'")
            return cur.fetchone()[0]

    def start_worker(self) -> None:
        self.api.stop()  # the API only made the endpoints; the worker runs alone
        self.api = None
        self.worker = Proc(
            ["pms_app", "worker"], self.env, self.log_dir, f"worker-{self.name}", self.rss, kind="worker"
        )
        self._started = (time.monotonic(), cpu_seconds(self.worker.process.pid) or 0.0)

    def worker_cpu(self, events: int) -> dict:
        """The worker's CPU so far: per delivered event, and as a share of one core (near 1.0
        means the worker itself set the pace)."""
        wall0, cpu0 = self._started
        used = (cpu_seconds(self.worker.process.pid) or 0.0) - cpu0
        return {
            "us_per_delivery": round(1e6 * used / events),
            "core_share": round(used / (time.monotonic() - wall0), 2),
        }

    def wait(self, done, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker is not None and self.worker.process.poll() is not None:
                raise RuntimeError(f"the worker exited, see {self.worker.log_path}")
            seen = self.delivered()
            if done(seen):
                return seen
            time.sleep(0.1)
        raise TimeoutError("the deliveries did not finish in time")

    def stop(self) -> None:
        for proc in (self.worker, self.api):
            if proc is not None:
                proc.stop()


def rate(entry: tuple[int, dt.datetime | None, dt.datetime | None]) -> float:
    """Deliveries per second between the first and the last one delivered."""
    count, first, last = entry
    seconds = (last - first).total_seconds() if first and last else 0.0
    return (count - 1) / seconds if count > 1 and seconds > 0 else 0.0


def single_endpoint(
    db: MariaDB,
    log_dir: Path,
    a: Receiver,
    events: int,
    concurrency: int,
    max_in_flight: int,
    timeout: float,
    rss: PeakRss,
) -> dict:
    run = FanoutRun(db, log_dir, a, concurrency, max_in_flight, rss)
    try:
        run.queue(events)
        run.start_worker()
        seen = run.wait(lambda s: s.get(1, (0,))[0] >= events, timeout)
        return {
            "events": events,
            "events_per_s": round(rate(seen[1]), 1),
            "failed": run.failed(),
            "worker_cpu": run.worker_cpu(events),
        }
    finally:
        run.stop()


def fanout(
    db: MariaDB,
    log_dir: Path,
    receivers: dict[str, Receiver],
    events: int,
    concurrency: int,
    max_in_flight: int,
    limited_seconds: float,
    timeout: float,
    rss: PeakRss,
) -> dict:
    run = FanoutRun(db, log_dir, receivers["a"], concurrency, max_in_flight, rss)
    try:
        ids = {
            "a": 1,
            "b": run.add_endpoint("bench-b", receivers["b"]),
            "c": run.add_endpoint("bench-c", receivers["c"], LIMITED_RATE),
        }
        run.queue(events)
        run.start_worker()
        started = time.monotonic()
        unlimited_done = lambda s: all(s.get(ids[k], (0,))[0] >= events for k in ("a", "b"))  # noqa: E731
        run.wait(unlimited_done, timeout)
        cpu = run.worker_cpu(sum(n for n, _, _ in run.delivered().values()))
        # C is measured over a window long enough for its bucket's first burst not to count.
        left = limited_seconds - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)
        seen = run.delivered()
        return {
            "events": events,
            "endpoints": {
                key: {
                    "endpoint_id": ids[key],
                    "delivered": seen.get(ids[key], (0,))[0],
                    "rate_limit_per_second": LIMITED_RATE if key == "c" else None,
                    "events_per_s": round(rate(seen[ids[key]]), 1) if ids[key] in seen else 0.0,
                }
                for key in ("a", "b", "c")
            },
            "failed": run.failed(),
            "worker_cpu_until_a_and_b_done": cpu,
        }
    finally:
        run.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql-url", default=os.environ.get("TEST_MYSQL_URL") or "mysql://root@127.0.0.1:3306/")
    parser.add_argument("--events", type=int, default=20_000, help="events per run")
    parser.add_argument("--latency-ms", type=float, default=10.0, help="each receiver's time to answer")
    parser.add_argument("--max-in-flight", type=int, default=4, help="max_in_flight of every endpoint")
    parser.add_argument("--concurrency", type=int, default=12, help="DELIVERY_CONCURRENCY of the worker")
    parser.add_argument(
        "--limited-seconds",
        type=float,
        default=15.0,
        help="shortest window over which the limited endpoint's rate is measured",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="longest wait for one run's deliveries")
    parser.add_argument("--log-dir", default=None, help="where process logs go (default: a temporary folder)")
    parser.add_argument("--serve-receiver", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_receiver:
        serve_receiver(args.serve_receiver, args.latency_ms)
        return 0

    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="guestsync-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    db = MariaDB(args.mysql_url)
    receivers: dict[str, Receiver] = {}
    rss = PeakRss()
    result: dict = {
        "benchmark": "fanout",
        "cpu_count": os.cpu_count(),
        "latency_ms": args.latency_ms,
        "max_in_flight": args.max_in_flight,
        "concurrency": args.concurrency,
        "log_dir": str(log_dir),
    }
    started = time.monotonic()
    try:
        for key in ("a", "b", "c"):
            receivers[key] = Receiver(args.latency_ms, log_dir, key, rss)
        single = single_endpoint(
            db, log_dir, receivers["a"], args.events, args.concurrency, args.max_in_flight, args.timeout, rss
        )
        spread = fanout(
            db,
            log_dir,
            receivers,
            args.events,
            args.concurrency,
            args.max_in_flight,
            args.limited_seconds,
            args.timeout,
            rss,
        )
    finally:
        for receiver in receivers.values():
            receiver.stop()
        db.drop_all()
    ceiling = single["events_per_s"]
    endpoints = spread["endpoints"]
    for key in ("a", "b"):
        endpoints[key]["ratio_to_single"] = round(endpoints[key]["events_per_s"] / ceiling, 3) if ceiling else None
    endpoints["c"]["ratio_to_limit"] = round(endpoints["c"]["events_per_s"] / LIMITED_RATE, 3)
    result.update(
        {
            "single_endpoint": single,
            "fanout": spread,
            "ceiling_events_per_s": ceiling,
            "theoretical_per_endpoint_events_per_s": round(args.max_in_flight / (args.latency_ms / 1000.0), 1)
            if args.latency_ms
            else None,
            # Not slowed: no more than 10% below the ceiling (faster is noise, not a failure).
            "unlimited_within_10_percent": all(
                endpoints[k]["ratio_to_single"] is not None and endpoints[k]["ratio_to_single"] >= 1 - TOLERANCE
                for k in ("a", "b")
            ),
            # Meaningful only when C's receiver could take more than its limit (see --help).
            "limited_within_10_percent": abs(endpoints["c"]["ratio_to_limit"] - 1) <= TOLERANCE,
            "rss": rss.report(),
        }
    )
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=2))
    return 0 if result["unlimited_within_10_percent"] else 1


if __name__ == "__main__":
    sys.exit(main())
