"""A service started on a port another process holds (``make run`` beside commands started by
hand, or a second copy) stops at once with one line naming the port, not a traceback, and
exit status 1: the PMS (whose in-process worker had already started), the CRM and the dashboard."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from core.config import REPO_ROOT


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind(("", 0))  # every address, as the services bind
        holder.listen()
        yield holder.getsockname()[1]


def start(module: str, port: int, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "ENV_FILE": os.devnull,
            "WORKER_METRICS_PORT": "0",
            "APP_PORT": str(port),
            "DASHBOARD_TOKEN": "t" * 24,
            **env,
        },
    )


def assert_refused(result: subprocess.CompletedProcess, name: str, port: int) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    refusal = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert refusal == [
        f"{name}: cannot listen on port {port} (APP_PORT): Address already in use. Another process "
        "holds it (another copy of this service, or `make run`): stop it, or give this one "
        "another APP_PORT."
    ]


def test_the_pms_and_its_worker_stop(pms_db, taken_port):
    assert_refused(
        start(
            "pms_app",
            taken_port,
            {"DATABASE_URL": pms_db.url, "CRM_WEBHOOK_URL": "http://127.0.0.1:9/api/v1/webhooks/pms"},
        ),
        "pms",
        taken_port,
    )


def test_the_crm_stops(crm_db, taken_port):
    assert_refused(start("crm_app", taken_port, {"DATABASE_URL": crm_db.url}), "crm", taken_port)


def test_the_dashboard_stops(taken_port):
    assert_refused(start("dashboard", taken_port, {}), "dashboard", taken_port)
