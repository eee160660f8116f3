"""Dashboard live-feed benchmark: many websocket clients on one dashboard process.

Runs the real PMS (with its delivery worker), the real CRM and the dashboard as subprocesses
(SQLite by default, ``--mysql-url URL`` for MySQL/MariaDB) with three endpoints: the CRM, a
second one on the CRM that answers too, and one where nothing listens (its attempts fail and its
breaker opens). While changes are measured, the broken endpoint is disabled and enabled again
every ``--notify-every`` seconds, so ``endpoint.disabled`` notifications flow to every client
beside the deliveries, the endpoint tiles and the chart. It connects websocket clients, creates
guests through the PMS API and measures:

- the delay from a PMS change (the POST returning) to each client receiving the change's
  ``delivery`` message, p50/p99 over all clients and changes, with 1 client and with N clients,
  and the spread between the first and the last client getting the same change (the fan-out);
  the ceiling is the 1-client run, so ``fanout_p99_ratio`` shows what N clients add, and
  ``p50_over_poll_interval`` shows how much of the delay is just waiting for the next poll;
- the dashboard process's RSS with no clients, 1 client and N clients;
- the delay from an endpoint being disabled (the POST returning) to each client receiving its
  ``endpoint.disabled`` notification, p50/p99;
- the requests the dashboard makes to the services with 1 client and with N clients, per second
  and per poll (counted from the services' own ``/metrics``, polls from the dashboard's);
  ``requests_ratio`` (per poll, N clients over 1) must stay near 1.

``checks`` says whether the run met its targets: change-to-client p99 at most 1.5 s with a 1 s
poll (for deliveries and notifications alike, with N clients), and requests to the services
independent of the number of clients (``requests_ratio`` within 10% of 1).

Prints one JSON document. ``python bench/dashboard.py --clients 500 --changes 50`` for a bigger run.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from _path import ROOT

from tests.support.databases import MySQLServer
from tests.support.processes import free_port, run_module, start_module, stop_process, wait_until_answers
from tests.support.stats import percentile

SECRET = "bench-shared-secret"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def get_requests(metrics_url: str) -> float:
    """GET requests a service has answered, not counting /metrics and /health."""
    total = 0.0
    for line in requests.get(metrics_url, timeout=5).text.splitlines():
        if line.startswith("http_requests_total{") and 'method="GET"' in line:
            route = re.search(r'route="([^"]*)"', line).group(1)
            if route not in ("MetricsHandler", "health"):
                total += float(line.rsplit(" ", 1)[1])
    return total


class Databases:
    """Fresh databases for the run: SQLite files in a temp dir, or MySQL databases dropped at the end."""

    def __init__(self, mysql_url: str | None, tmp: str):
        self.server = MySQLServer(mysql_url, prefix="gs_bench") if mysql_url else None
        self.tmp = tmp

    def url(self, service: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.tmp}/{service}.db"
        return self.server.url(self.server.create(service))

    def drop(self) -> None:
        if self.server is not None:
            self.server.drop_all()


class Stack:
    """PMS (+ worker), CRM and dashboard processes."""

    def __init__(self, databases: Databases, poll: float, log_dir: str):
        self.procs: list[subprocess.Popen] = []
        self.log_dir = log_dir
        self.pms_port, self.crm_port, self.dash_port = free_port(), free_port(), free_port()
        self.token = secrets.token_urlsafe(16)
        base = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "ENV_FILE": os.devnull}
        self.crm_env = {
            **base,
            "APP_PORT": str(self.crm_port),
            "DATABASE_URL": databases.url("crm"),
            "WEBHOOK_SHARED_SECRET": SECRET,
        }
        self.pms_env = {
            **base,
            "APP_PORT": str(self.pms_port),
            "DATABASE_URL": databases.url("pms"),
            "CRM_WEBHOOK_URL": f"http://127.0.0.1:{self.crm_port}/api/v1/webhooks/pms",
            "CRM_WEBHOOK_SECRET": SECRET,
        }
        self.dash_env = {
            **base,
            "APP_PORT": str(self.dash_port),
            "PMS_URL": f"http://127.0.0.1:{self.pms_port}",
            "CRM_URL": f"http://127.0.0.1:{self.crm_port}",
            "DASHBOARD_TOKEN": self.token,
            "DASHBOARD_POLL_SECONDS": str(poll),
            "DASHBOARD_LIVE_LINGER_SECONDS": "0",
        }

    def start(self) -> None:
        for module, env in (("crm_app", self.crm_env), ("pms_app", self.pms_env)):
            run_module(module, "migrate", env=env, check=True)
        self.crm = self._spawn("crm", "crm_app", self.crm_env)
        self.pms = self._spawn("pms", "pms_app", self.pms_env)
        self.dashboard = self._spawn("dashboard", "dashboard", self.dash_env)
        wait_until_answers(f"http://127.0.0.1:{self.crm_port}/api/v1/health", self.crm, 30)
        wait_until_answers(f"http://127.0.0.1:{self.pms_port}/api/v1/health", self.pms, 30)
        wait_until_answers(f"http://127.0.0.1:{self.dash_port}/login", self.dashboard, 30)

    def _spawn(self, name: str, module: str, env: dict) -> subprocess.Popen:
        proc = start_module([module], env, os.path.join(self.log_dir, f"{name}.log"))
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc, 15)

    @property
    def dash_url(self) -> str:
        return f"http://127.0.0.1:{self.dash_port}"

    @property
    def pms_url(self) -> str:
        return f"http://127.0.0.1:{self.pms_port}"

    @property
    def crm_url(self) -> str:
        return f"http://127.0.0.1:{self.crm_port}"

    def add_endpoints(self) -> int:
        """A second endpoint on the CRM (it answers) and one where nothing listens; returns the
        broken one's id."""
        api = self.pms_url + "/api/v1/endpoints"
        crm_hook = f"http://127.0.0.1:{self.crm_port}/api/v1/webhooks/pms"
        mirror = requests.post(api, json={"name": "mirror", "url": crm_hook, "secret": SECRET}, timeout=10)
        broken = requests.post(
            api,
            json={
                "name": "broken",
                "url": f"http://127.0.0.1:{free_port()}/hook",
                "secret": SECRET,
                "retry_schedule": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            },
            timeout=10,
        )
        assert mirror.status_code == broken.status_code == 201, (mirror.text, broken.text)
        return broken.json()["data"]["id"]

    def session_cookie(self) -> str:
        session = requests.Session()
        page = session.get(self.dash_url + "/login", timeout=5)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        answer = session.post(
            self.dash_url + "/login", data={"token": self.token, "_xsrf": xsrf}, allow_redirects=False, timeout=5
        )
        assert answer.status_code == 302, answer.status_code
        return "; ".join(f"{k}={v}" for k, v in session.cookies.items())

    def service_requests(self) -> float:
        return get_requests(self.pms_url + "/metrics") + get_requests(self.crm_url + "/metrics")

    def poll_ticks(self) -> float:
        for line in requests.get(self.dash_url + "/metrics", timeout=5).text.splitlines():
            if line.startswith("dashboard_live_poll_ticks "):
                return float(line.split()[1])
        raise RuntimeError("the dashboard reports no poll ticks")


class Client:
    """One websocket client recording when each delivery message for a guest first arrived."""

    def __init__(self):
        self.arrivals: dict[int, float] = {}
        self.notifications: dict[int, float] = {}
        self.kinds: dict[str, int] = {}
        self.messages = 0

    async def run(self, url: str, cookie: str, origin: str, connected: asyncio.Event | None = None) -> None:
        request = HTTPRequest(url, headers={"Cookie": cookie, "Origin": origin})
        self.ws = await websocket_connect(request, max_message_size=64 * 1024 * 1024)
        if connected:
            connected.set()
        while True:
            raw = await self.ws.read_message()
            if raw is None:
                return
            arrived = time.monotonic()
            self.messages += 1
            message = json.loads(raw)
            kind = message["kind"]
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            if kind == "delivery" and message["data"]["type"] == "guest.created":
                self.arrivals.setdefault(message["data"]["entity_id"], arrived)
            elif kind == "notification":
                self.notifications.setdefault(message["data"]["id"], arrived)

    def close(self) -> None:
        self.ws.close()


async def connect(stack: Stack, count: int, cookie: str) -> tuple[list[Client], list[asyncio.Task]]:
    url = stack.dash_url.replace("http://", "ws://") + "/ws/live"
    clients, tasks = [], []
    for _ in range(count):
        client, ready = Client(), asyncio.Event()
        tasks.append(asyncio.create_task(client.run(url, cookie, stack.dash_url, ready)))
        await asyncio.wait_for(ready.wait(), 10)
        clients.append(client)
    return clients, tasks


async def measure_requests(stack: Stack, seconds: float) -> tuple[float, float | None]:
    """Requests the services answered per second, and per poll tick of the dashboard (``None``
    without ticks): a window holds a whole number of ticks, so per second alone is noisy."""
    loop = asyncio.get_running_loop()
    before = await loop.run_in_executor(None, stack.service_requests)
    ticks_before = await loop.run_in_executor(None, stack.poll_ticks)
    await asyncio.sleep(seconds)
    after = await loop.run_in_executor(None, stack.service_requests)
    ticks = await loop.run_in_executor(None, stack.poll_ticks) - ticks_before
    return (after - before) / seconds, ((after - before) / ticks if ticks else None)


class Notifier:
    """Disables and enables the broken endpoint on a period while changes are measured; each
    disable raises one ``endpoint.disabled`` notification, whose id and POST time are kept."""

    def __init__(self, stack: Stack, endpoint_id: int, every: float):
        self.stack = stack
        self.endpoint_id = endpoint_id
        self.every = every
        self.raised: dict[int, float] = {}
        self.session = requests.Session()

    def _toggle(self) -> tuple[int, float] | None:
        base = f"{self.stack.pms_url}/api/v1/endpoints/{self.endpoint_id}"
        answer = self.session.post(base + "/disable", json={}, timeout=10)
        done = time.monotonic()
        assert answer.status_code == 200, answer.text
        newest = self.session.get(
            self.stack.pms_url + "/api/v1/notifications", params={"type": "endpoint.disabled", "limit": 1}, timeout=10
        ).json()["data"]
        self.session.post(base + "/enable", json={}, timeout=10)
        return (newest[0]["id"], done) if newest else None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            raised = await loop.run_in_executor(None, self._toggle)
            if raised:
                self.raised[raised[0]] = raised[1]
            await asyncio.sleep(self.every)

    def delays(self, clients: list[Client], since: set[int]) -> dict:
        delays = []
        for notification_id, posted in self.raised.items():
            if notification_id in since:
                continue
            got = [c.notifications[notification_id] - posted for c in clients if notification_id in c.notifications]
            if len(got) < len(clients):
                raise RuntimeError(f"{len(clients) - len(got)} clients never received notification {notification_id}")
            delays += got
        if not delays:
            return {"samples": 0}
        return {
            "p50_ms": round(1000 * percentile(delays, 50), 1),
            "p99_ms": round(1000 * percentile(delays, 99), 1),
            "samples": len(delays),
        }


async def with_notifications(notifier: Notifier, clients: list[Client], work) -> tuple[dict, dict]:
    """Run ``work`` while notifications flow; then wait a poll or two for the last ones to land."""
    before = set(notifier.raised)
    task = asyncio.create_task(notifier.run())
    try:
        result = await work
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        n not in c.notifications for n in set(notifier.raised) - before for c in clients
    ):
        await asyncio.sleep(0.05)
    return result, notifier.delays(clients, before)


async def measure_delays(stack: Stack, clients: list[Client], changes: int, poll: float) -> dict:
    loop = asyncio.get_running_loop()
    session = requests.Session()
    delays, all_have, spreads = [], [], []
    rng = secrets.SystemRandom()
    for i in range(changes):
        await asyncio.sleep(rng.uniform(0.2, 0.2 + poll))  # sample every phase of the poll interval
        body = {"email": f"bench-{uuid.uuid4().hex[:12]}@example.com", "name": f"Bench Guest {i}"}
        response = await loop.run_in_executor(
            None, functools.partial(session.post, stack.pms_url + "/api/v1/guests", json=body, timeout=10)
        )
        committed = time.monotonic()
        guest_id = response.json()["data"]["id"]
        deadline = committed + 30
        while any(guest_id not in c.arrivals for c in clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        got = [c.arrivals[guest_id] - committed for c in clients if guest_id in c.arrivals]
        if len(got) < len(clients):
            raise RuntimeError(f"{len(clients) - len(got)} clients never received change {i}")
        delays += got
        all_have.append(max(got))
        spreads.append(max(got) - min(got))
    return {
        "p50_ms": round(1000 * percentile(delays, 50), 1),
        "p99_ms": round(1000 * percentile(delays, 99), 1),
        "all_clients_p50_ms": round(1000 * statistics.median(all_have), 1),
        "all_clients_max_ms": round(1000 * max(all_have), 1),
        "first_to_last_client_p50_ms": round(1000 * statistics.median(spreads), 1),
        "samples": len(delays),
    }


async def run(args) -> dict:
    tmp = tempfile.mkdtemp(prefix="gs-bench-dashboard-")
    databases = Databases(args.mysql_url, tmp)
    stack = Stack(databases, args.poll, tmp)
    try:
        stack.start()
        broken = stack.add_endpoints()
        notifier = Notifier(stack, broken, args.notify_every)
        cookie = stack.session_cookie()
        await asyncio.sleep(1)
        rss_idle = rss_kib(stack.dashboard.pid)
        idle_rate, _ = await measure_requests(stack, args.seconds / 2)

        one, one_tasks = await connect(stack, 1, cookie)
        await asyncio.sleep(2 * args.poll)
        rate_one, per_tick_one = await measure_requests(stack, args.seconds)
        delay_one, notified_one = await with_notifications(
            notifier, one, measure_delays(stack, one, args.changes, args.poll)
        )
        rss_one = rss_kib(stack.dashboard.pid)

        many, many_tasks = await connect(stack, args.clients - 1, cookie)
        everyone = one + many
        await asyncio.sleep(2 * args.poll)
        rate_many, per_tick_many = await measure_requests(stack, args.seconds)
        delay_many, notified_many = await with_notifications(
            notifier, everyone, measure_delays(stack, everyone, args.changes, args.poll)
        )
        rss_many = rss_kib(stack.dashboard.pid)
        kinds = dict(sorted(one[0].kinds.items()))
        for client in everyone:
            client.close()
        await asyncio.gather(*one_tasks, *many_tasks, return_exceptions=True)
        requests_ratio = round(per_tick_many / per_tick_one, 2) if per_tick_one and per_tick_many else None
        return {
            "benchmark": "dashboard_live_feed",
            "endpoints": 3,
            "database": "mysql" if args.mysql_url else "sqlite",
            "poll_seconds": args.poll,
            "clients": args.clients,
            "changes_per_phase": args.changes,
            "delay_1_client": delay_one,
            "delay_n_clients": delay_many,
            "notification_delay_1_client": notified_one,
            "notification_delay_n_clients": notified_many,
            "messages_seen_by_one_client": kinds,
            "fanout_p99_ratio": round(delay_many["p99_ms"] / delay_one["p99_ms"], 2),
            "p50_over_poll_interval": round(delay_many["p50_ms"] / (1000 * args.poll), 2),
            "dashboard_rss_mib": {
                "idle": round(rss_idle / 1024, 1),
                "1_client": round(rss_one / 1024, 1),
                "n_clients": round(rss_many / 1024, 1),
            },
            "service_requests_per_second": {
                "no_clients": round(idle_rate, 2),
                "1_client": round(rate_one, 2),
                "n_clients": round(rate_many, 2),
            },
            "service_requests_per_poll": {
                "1_client": per_tick_one and round(per_tick_one, 2),
                "n_clients": per_tick_many and round(per_tick_many, 2),
            },
            "requests_ratio": requests_ratio,
            "checks": {
                "p99_change_to_client_at_most_1500_ms": args.poll == 1.0
                and max(delay_many["p99_ms"], notified_many.get("p99_ms", 0)) <= 1500,
                "requests_independent_of_clients": requests_ratio is not None and abs(requests_ratio - 1) <= 0.10,
            },
        }
    finally:
        stack.stop()
        databases.drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--changes", type=int, default=15, help="guest creations measured per phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each request-rate window")
    parser.add_argument("--poll", type=float, default=1.0, help="DASHBOARD_POLL_SECONDS")
    parser.add_argument(
        "--notify-every",
        type=float,
        default=1.5,
        help="seconds between disabling the broken endpoint (one notification each)",
    )
    parser.add_argument(
        "--mysql-url", help="a MySQL/MariaDB server URL such as mysql://root@127.0.0.1:3306/ (default: SQLite)"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
