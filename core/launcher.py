"""``make run``: start the PMS (with its delivery worker), the CRM and the dashboard as one process tree.

Prints the three URLs and the dashboard login token once every service answers; Ctrl-C
(or SIGTERM) stops all of them cleanly. If one service exits on its own, the others are
stopped too and the launcher exits non-zero, so a broken start is never half-running.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request

from .config import REPO_ROOT, EnvReader, load_environment

SERVICES = (
    ("pms", "pms_app", 4001, "/api/v1/health"),
    ("crm", "crm_app", 5001, "/api/v1/health"),
    ("dashboard", "dashboard", 8080, "/login"),
)


def _port(module: str, default: int) -> int:
    return EnvReader(load_environment(module)).int("APP_PORT", default)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status < 500
    except Exception:  # noqa: BLE001 - not up yet
        return False


def _stop(children: list[subprocess.Popen], grace: float = 10.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def main() -> int:
    # The launcher owns one setting itself: the dashboard token, so it can print it.
    token = os.environ.get("DASHBOARD_TOKEN") or load_environment("dashboard").get("DASHBOARD_TOKEN")
    env = dict(os.environ, DASHBOARD_TOKEN=token or secrets.token_urlsafe(24), PYTHONUNBUFFERED="1")
    env.pop("APP_PORT", None)  # each service reads its own port from its .env or default
    stopping = False

    def request_stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    children = [
        subprocess.Popen([sys.executable, "-m", module], cwd=REPO_ROOT, env=env, start_new_session=True)
        for _, module, _, _ in SERVICES
    ]
    urls = {name: f"http://localhost:{_port(module, port)}" for name, module, port, _ in SERVICES}
    deadline = time.monotonic() + 30
    pending = {name: urls[name] + path for name, _, _, path in SERVICES}
    while pending and not stopping and time.monotonic() < deadline:
        pending = {name: url for name, url in pending.items() if not _answers(url)}
        if any(child.poll() is not None for child in children):
            break
        time.sleep(0.2)
    if pending or any(child.poll() is not None for child in children):
        print(f"guestsync: could not start {', '.join(pending) or 'a service'}; stopping", file=sys.stderr)
        _stop(children)
        return 1
    print(
        "\nGuestsync is running (Ctrl-C stops everything):\n"
        f"  PMS API    {urls['pms']}/api/v1   (delivery worker running in-process)\n"
        f"  CRM API    {urls['crm']}/api/v1\n"
        f"  Dashboard  {urls['dashboard']}/   login token: {env['DASHBOARD_TOKEN']}\n",
        flush=True,
    )
    while not stopping:
        if any(child.poll() is not None for child in children):
            print("guestsync: a service exited; stopping the others", file=sys.stderr)
            _stop(children)
            return 1
        time.sleep(0.3)
    print("guestsync: stopping", flush=True)
    _stop(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
