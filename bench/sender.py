"""Delivery sender CPU per send: the pycurl sender vs a requests-based one vs a raw http.client loop.

It starts a bare Tornado receiver in a process of its own (answering 202 with the receiver's JSON
shape and doing no work, so its CPU is not counted) and, in this process, makes the same signed
webhook attempts with three clients, each from ``--threads`` threads holding one keep-alive
connection apiece:

* ``pycurl``: the delivery ``Sender`` itself (envelope, signatures, URL and address check, the
  pinned pycurl POST with its deadline and capped read, judging the answer);
* ``requests``: the same envelope and signatures POSTed through a ``requests.Session`` per thread,
  as delivery did before it moved to pycurl;
* ``http_client`` (the ceiling): the same envelope and signatures over a bare
  ``http.client.HTTPConnection`` per thread, answer read, nothing checked.

CPU per send is this process's CPU time (user + system, every thread) over the sends made. The
clients take turns round by round (in a rotating order), so load from elsewhere on the machine
weighs on all of them alike; each figure is the median over rounds, and each ratio the median of
the rounds' ratios. Prints JSON.

    python bench/sender.py                        # defaults: 4 rounds of 2,000 sends per client, 8 threads
    python bench/sender.py --sends 5000 --rounds 6 --threads 16
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

import requests
from _path import ROOT
from receiver import PATH, serve_bare, wait_healthy  # bench/receiver.py

from core.signing import keys_from_secrets, signed_headers
from pms_app.delivery.claims import Claim
from pms_app.delivery.sender import Sender, envelope_body
from tests.support.processes import free_port, stop_process

SECRET = "bench-sender-secret"
TIMEOUT = 10.0


def make_claim(n: int) -> Claim:
    now = dt.datetime(2026, 11, 30, 12, 0, 0)
    payload = {
        "id": n,
        "email": f"bench{n}@example.com",
        "name": f"Bench Guest {n}",
        "phone": "+14155550100",
        "date_of_birth": "1980-01-01",
        "country": "PT",
        "version": 1,
        "created_at": "2026-11-30T12:00:00.000Z",
        "updated_at": "2026-11-30T12:00:00.000Z",
    }
    return Claim(
        seq=n,
        id=str(uuid.uuid4()),
        endpoint_id=1,
        type="guest.updated",
        payload=payload,
        occurred_at=now,
        attempts_since_replay=0,
        worker_id="bench",
        lease_until=now + dt.timedelta(minutes=1),
        trigger="scheduled",
        replayed_by=None,
    )


# -- the three clients: each sends one claim and returns the answer's status ----------------------


class PycurlClient:
    name = "pycurl"

    def __init__(self, url: str, keys: tuple[bytes, ...]):
        self.sender = Sender(url, keys, TIMEOUT)

    def send(self, claim: Claim) -> int | None:
        return self.sender.send(claim).record.status_code

    def close(self) -> None:
        self.sender.close()


class RequestsClient:
    """What delivery did before: a ``requests.Session`` per thread, no redirects, whole body read."""

    name = "requests"

    def __init__(self, url: str, keys: tuple[bytes, ...]):
        self.url, self.keys = url, keys
        self._local = threading.local()
        self._sessions: list[requests.Session] = []

    def send(self, claim: Claim) -> int | None:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # as delivery had it: the environment read once, not per request
            self._sessions.append(session)
        body = envelope_body(claim)
        response = session.post(
            self.url,
            data=body,
            headers=signed_headers(self.keys, claim.id, body),
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        response.content[:2048].decode("utf-8", errors="replace")
        response.headers.get("Retry-After")
        return response.status_code

    def close(self) -> None:
        for session in self._sessions:
            session.close()


class HttpClientCeiling:
    """The least a Python client can do: one ``http.client`` connection per thread, nothing checked."""

    name = "http_client"

    def __init__(self, url: str, keys: tuple[bytes, ...], port: int):
        self.port, self.keys = port, keys
        self._local = threading.local()
        self._conns: list[http.client.HTTPConnection] = []

    def send(self, claim: Claim) -> int | None:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            self._conns.append(conn)
        body = envelope_body(claim)
        conn.request("POST", PATH, body=body, headers=signed_headers(self.keys, claim.id, body))
        response = conn.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        for conn in self._conns:
            conn.close()


# -- measuring --------------------------------------------------------------------------------


def run_round(client, pool: concurrent.futures.ThreadPoolExecutor, claims: list[Claim], threads: int) -> dict:
    """All ``claims`` sent by ``threads`` threads at once; CPU and wall time of the whole round."""
    shares = [claims[i::threads] for i in range(threads)]

    def work(share: list[Claim]) -> dict[int | None, int]:
        counts: dict[int | None, int] = {}
        for claim in share:
            status = client.send(claim)
            counts[status] = counts.get(status, 0) + 1
        return counts

    cpu0, wall0 = time.process_time(), time.perf_counter()
    results = list(pool.map(work, shares))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    statuses: dict[str, int] = {}
    for counts in results:
        for status, count in counts.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    return {
        "sends": len(claims),
        "cpu_us_per_send": 1e6 * cpu / len(claims),
        "sends_per_s": len(claims) / wall,
        "statuses": statuses,
    }


def summarise(rounds: list[dict]) -> dict:
    statuses: dict[str, int] = {}
    for r in rounds:
        for code, count in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    return {
        "sends": sum(r["sends"] for r in rounds),
        "cpu_us_per_send": round(statistics.median(r["cpu_us_per_send"] for r in rounds), 1),
        "sends_per_s": round(statistics.median(r["sends_per_s"] for r in rounds), 1),
        "per_round_cpu_us_per_send": [round(r["cpu_us_per_send"], 1) for r in rounds],
        "statuses": statuses,
    }


def median_ratio(top: list[dict], bottom: list[dict]) -> float:
    ratios = (t["cpu_us_per_send"] / b["cpu_us_per_send"] for t, b in zip(top, bottom, strict=True))
    return round(statistics.median(ratios), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=2000, help="sends per client per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds; the clients take turns in each")
    parser.add_argument("--threads", type=int, default=8, help="sending threads (one connection each) per client")
    parser.add_argument("--warmup", type=int, default=200, help="sends per client first, not measured")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0

    port = free_port()
    url = f"http://127.0.0.1:{port}{PATH}"
    keys = keys_from_secrets([SECRET])
    bare = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)], cwd=ROOT)
    clients = [PycurlClient(url, keys), RequestsClient(url, keys), HttpClientCeiling(url, keys, port)]
    pools = {c.name: concurrent.futures.ThreadPoolExecutor(args.threads, thread_name_prefix=c.name) for c in clients}
    measured: dict[str, list[dict]] = {c.name: [] for c in clients}
    try:
        wait_healthy(port, bare)
        serial = 0

        def claims(n: int) -> list[Claim]:
            nonlocal serial
            serial += n
            return [make_claim(serial - n + i) for i in range(n)]

        for client in clients:  # open every thread's connection and warm the code paths
            run_round(client, pools[client.name], claims(max(args.warmup, args.threads)), args.threads)
        for r in range(args.rounds):
            order = clients[r % len(clients) :] + clients[: r % len(clients)]
            for client in order:
                measured[client.name].append(run_round(client, pools[client.name], claims(args.sends), args.threads))
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True)
        for client in clients:
            client.close()
        stop_process(bare, 15)

    print(
        json.dumps(
            {
                "benchmark": "delivery_sender",
                "sends_per_round": args.sends,
                "rounds": args.rounds,
                "threads": args.threads,
                "cpus": os.cpu_count(),
                "pycurl": summarise(measured["pycurl"]),
                "requests": summarise(measured["requests"]),
                "http_client": summarise(measured["http_client"]),
                "requests_over_pycurl_cpu": median_ratio(measured["requests"], measured["pycurl"]),
                "pycurl_over_http_client_cpu": median_ratio(measured["pycurl"], measured["http_client"]),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
