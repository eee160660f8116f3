"""CRM receiver throughput: signed webhooks over loopback against one real CRM process on MariaDB.

It creates a fresh MariaDB database, migrates it, starts ``python -m crm_app`` on it, and drives
N pre-signed webhooks (a realistic mix: each guest is created, gets reservations, one of them is
updated) at a chosen concurrency over keep-alive connections. In the same run it starts a bare
Tornado handler (its own process, answering 202 with the same JSON shape and no work) and drives
the same requests at it: that is the ceiling of this machine, this client and Tornado. The two
are measured in alternating rounds so that other load on the machine weighs on both alike. It
prints JSON with accepted/s, p50/p99 latency and CPU time per request (from /proc) for both,
and their ratio (median of the rounds' ratios) beside the target; then stops both processes and
drops the database. The CRM runs with its default settings (LOG_LEVEL=INFO, metrics on), its
log written to a temporary file as a deployment would write it; ``--log-level WARNING`` shows what the access log costs.

    python bench/receiver.py                      # defaults: 20,000 webhooks, concurrency 32
    python bench/receiver.py --requests 50000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _path import ROOT

from core.signing import keys_from_secrets, signed_headers
from tests.support.databases import MySQLServer
from tests.support.processes import free_port, stop_process, wait_until_answers
from tests.support.stats import percentile
from procstats import PeakRss, cpu_seconds  # same folder

SECRET = "bench-receiver-secret"
PATH = "/api/v1/webhooks/pms"
TARGET_RATIO = 0.40  # accepted webhooks/s against the bare handler's, same run


# -- the bare ceiling -------------------------------------------------------------------------


def serve_bare(port: int) -> None:
    """A Tornado app whose webhook handler does nothing but answer like the receiver."""
    import tornado.ioloop
    import tornado.web

    class Bare(tornado.web.RequestHandler):
        def post(self) -> None:
            self.set_status(202)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(json.dumps({"data": {"status": "accepted", "id": self.request.headers.get("webhook-id")}}))

    class Health(tornado.web.RequestHandler):
        def get(self) -> None:
            self.finish({"status": "ok"})

    app = tornado.web.Application([(PATH, Bare), ("/api/v1/health", Health)], log_function=lambda h: None)
    app.listen(port, "127.0.0.1")
    tornado.ioloop.IOLoop.current().start()


# -- processes ----------------------------------------------------------------------------------


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    wait_until_answers(f"http://127.0.0.1:{port}/api/v1/health", proc, timeout)


# -- workload --------------------------------------------------------------------------------


def workload(n: int, seed: int = 7) -> list[tuple[str, bytes]]:
    """``n`` webhooks in PMS order: per guest one create, reservations, one reservation update."""
    rng = random.Random(seed)
    events: list[tuple[str, dict]] = []
    guest_id = reservation_id = 0
    while len(events) < n:
        guest_id += 1
        events.append(
            (
                "guest.created",
                {
                    "id": guest_id,
                    "email": f"bench{guest_id}@example.com",
                    "name": f"Bench Guest {guest_id}",
                    "phone": "+14155550100",
                    "date_of_birth": "1980-01-01",
                    "country": "PT",
                    "version": 1,
                    "created_at": "2026-01-01T00:00:00.000Z",
                    "updated_at": "2026-01-01T00:00:00.000Z",
                },
            )
        )
        for _ in range(rng.randint(1, 3)):
            reservation_id += 1
            payload = {
                "id": reservation_id,
                "guest_id": guest_id,
                "room_number": "101",
                "room_type": "double",
                "check_in": "2026-06-01",
                "check_out": "2026-06-04",
                "status": "confirmed",
                "total_amount": "360.00",
                "currency": "USD",
                "adults": 2,
                "children": 0,
                "notes": None,
                "version": 1,
                "created_at": "2026-01-01T00:00:00.000Z",
                "updated_at": "2026-01-01T00:00:00.000Z",
            }
            events.append(("reservation.created", dict(payload)))
        events.append(("reservation.updated", dict(payload, version=2, status="checked_in")))
    keys = keys_from_secrets([SECRET])
    now = int(time.time())
    requests = []
    for event_type, payload in events[:n]:
        webhook_id = str(uuid.UUID(int=rng.getrandbits(128)))
        body = json.dumps(
            {"type": event_type, "idempotency_key": webhook_id, "timestamp": now * 1000, "payload": payload}
        ).encode()
        requests.append((webhook_id, raw_request(PATH, body, signed_headers(keys, webhook_id, body, timestamp=now))))
    return requests


def raw_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One keep-alive HTTP/1.1 POST as bytes, ready for ``drive``."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + body


# -- the driver ------------------------------------------------------------------------------


async def drive(port: int, requests: list[tuple[str, bytes]], concurrency: int) -> dict:
    """Send every request once over ``concurrency`` keep-alive connections, in order per connection."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    position = 0

    async def connection() -> None:
        nonlocal position
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while position < len(requests):
                _, raw = requests[position]
                position += 1
                started = time.perf_counter()
                writer.write(raw)
                status_line = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                status = int(status_line.split()[1])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*[connection() for _ in range(concurrency)])
    elapsed = time.perf_counter() - started

    def pct(p: float) -> float:
        return round(1000 * percentile(latencies, p), 2)

    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "accepted_per_s": round(statuses.get(202, 0) / elapsed, 1),
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def database_server_pid() -> int | None:
    """The local MariaDB/MySQL server's pid, when it runs on this machine and /proc shows it."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("mariadbd", "mysqld"):
                    return int(entry.name)
            except OSError:
                continue
    return None


def measured_round(proc: subprocess.Popen, port: int, chunk: list, concurrency: int) -> dict:
    """One round against one server, with the CPU time per request of the server, of the
    database server (whatever else it serves meanwhile counts too) and of this client."""
    watched = {"cpu_us_per_request": proc.pid, "database_server_cpu_us_per_request": database_server_pid()}
    before = {key: cpu_seconds(pid) if pid else None for key, pid in watched.items()}
    client = time.process_time()
    result = asyncio.run(drive(port, chunk, concurrency))
    client = time.process_time() - client
    for key, pid in watched.items():
        after = cpu_seconds(pid) if pid else None
        if before[key] is not None and after is not None and result["requests"]:
            result[key] = round(1e6 * (after - before[key]) / result["requests"], 1)
    if result["requests"]:
        result["client_cpu_us_per_request"] = round(1e6 * client / result["requests"], 1)
    return result


def combine(rounds: list[dict]) -> dict:
    """Totals over the rounds, with the median round's latency figures."""
    accepted = sum(r["statuses"].get("202", 0) for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    statuses: dict[str, int] = {}
    for r in rounds:
        for code, count in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count

    def median_of(key: str) -> float | None:
        values = [r[key] for r in rounds if key in r]
        return round(statistics.median(values), 1) if values else None

    return {
        "requests": sum(r["requests"] for r in rounds),
        "seconds": round(seconds, 2),
        "accepted_per_s": round(accepted / seconds, 1),
        "cpu_us_per_request": median_of("cpu_us_per_request"),
        "database_server_cpu_us_per_request": median_of("database_server_cpu_us_per_request"),
        "client_cpu_us_per_request": median_of("client_cpu_us_per_request"),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in rounds), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in rounds), 2),
        "statuses": statuses,
        "per_round_accepted_per_s": [r["accepted_per_s"] for r in rounds],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000, help="webhooks to send to each server")
    parser.add_argument("--concurrency", type=int, default=32, help="connections sending at once")
    parser.add_argument("--warmup", type=int, default=300, help="webhooks sent first and not measured")
    parser.add_argument("--rounds", type=int, default=4, help="alternating CRM/bare rounds")
    parser.add_argument("--mysql-url", default=os.environ.get("TEST_MYSQL_URL") or "mysql://root@127.0.0.1:3306/")
    parser.add_argument("--db-threads", type=int, default=8, help="DB_THREADS of the CRM process")
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of the CRM process")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0

    requests = workload(args.requests + args.warmup)
    server = MySQLServer(args.mysql_url, prefix="gs_bench")
    database = server.create("receiver")
    env = {
        **os.environ,
        "DATABASE_URL": server.url(database),
        "WEBHOOK_SHARED_SECRET": SECRET,
        "LOG_LEVEL": args.log_level,
        "DB_THREADS": str(args.db_threads),
        "ENV_FILE": os.devnull,
    }
    procs: list[subprocess.Popen] = []
    rss = PeakRss()
    crm_log = tempfile.TemporaryFile()
    try:
        subprocess.run(
            [sys.executable, "-m", "crm_app", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        crm_port, bare_port = free_port(), free_port()
        crm = subprocess.Popen(
            [sys.executable, "-m", "crm_app"], cwd=ROOT, env={**env, "APP_PORT": str(crm_port)}, stderr=crm_log
        )
        bare = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(bare_port)], cwd=ROOT)
        procs += [crm, bare]
        wait_healthy(crm_port, crm)
        wait_healthy(bare_port, bare)
        warm = requests[: args.warmup]
        if warm:
            asyncio.run(drive(crm_port, warm, min(args.concurrency, len(warm))))
            asyncio.run(drive(bare_port, warm, min(args.concurrency, len(warm))))
        # Alternate the two servers round by round, so that load from elsewhere on the machine
        # falls on both measurements alike; the ratio is the median of the rounds' ratios.
        measured = requests[args.warmup :]
        size = max(1, len(measured) // args.rounds)
        crm_rounds, bare_rounds = [], []
        for start in range(0, size * args.rounds, size):
            chunk = measured[start : start + size]
            crm_rounds.append(measured_round(crm, crm_port, chunk, args.concurrency))
            bare_rounds.append(measured_round(bare, bare_port, chunk, args.concurrency))
        with server.connect(database) as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM event")
            recorded = cur.fetchone()[0]
        rss.record("crm", crm.pid)
        rss.record("bare_tornado", bare.pid)
    finally:
        for proc in procs:
            stop_process(proc, 15)
        server.drop_all()
        log_bytes = crm_log.seek(0, os.SEEK_END)
        crm_log.close()
    crm_result = combine(crm_rounds)
    crm_result["events_recorded"] = recorded
    crm_result["log_level"] = args.log_level
    crm_result["log_bytes"] = log_bytes
    bare_result = combine(bare_rounds)
    ratios = [c["accepted_per_s"] / b["accepted_per_s"] for c, b in zip(crm_rounds, bare_rounds, strict=True)]

    print(
        json.dumps(
            {
                "benchmark": "crm_receiver",
                "requests": args.requests,
                "concurrency": args.concurrency,
                "cpus": os.cpu_count(),
                "crm": crm_result,
                "bare_tornado": bare_result,
                "ratio": round(statistics.median(ratios), 3),
                "target_ratio": TARGET_RATIO,
                "per_round_ratio": [round(r, 3) for r in ratios],
                "rss": rss.report(),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
