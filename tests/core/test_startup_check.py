"""The services as real processes against a database that lacks migrations: they refuse to start
(naming what is missing) unless told ``--migrate``; ``migrate`` on an unreachable database is
one line, not a traceback; the standalone worker serves its metrics port. Every backend."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from core.cli import EXIT_DATABASE
from core.config import REPO_ROOT
from tests.support.databases import TestDatabase
from tests.support.processes import free_port, run_module, start_module, stop_process, wait_until_answers


def migration_names(service: str) -> list[str]:
    return sorted(p.stem for p in (REPO_ROOT / "migrations" / service).glob("[0-9]*.py"))


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(params=["pms", "crm"])
def service(request) -> str:
    return request.param


@pytest.fixture
def unmigrated(service, backend, tmp_path):
    """A database with only the first migration of ``service`` applied."""
    database = TestDatabase(service, backend, str(tmp_path), threads=1, upto=migration_names(service)[0])
    yield database
    database.drop()


@pytest.mark.parametrize(
    "service, command", [("pms", ()), ("pms", ("worker",)), ("crm", ())], ids=["pms", "pms-worker", "crm"]
)
def test_a_service_refuses_to_start_on_an_unmigrated_database(service, command, unmigrated):
    result = run_module(f"{service}_app", *command, env={"DATABASE_URL": unmigrated.url, "APP_PORT": str(free_port())})
    assert result.returncode == EXIT_DATABASE, result.stderr
    pending = migration_names(service)[1:]
    message = result.stderr.strip()
    assert f"lacks {len(pending)} migration(s): {', '.join(pending)}" in message
    assert "--migrate" in message and "Traceback" not in message
    assert "listening" not in result.stdout + result.stderr


def test_migrate_flag_migrates_then_serves_ready(service, unmigrated, tmp_path):
    port = free_port()
    process = start_module(
        [f"{service}_app", "--migrate"],
        {"DATABASE_URL": unmigrated.url, "APP_PORT": str(port)},
        str(tmp_path / "service.log"),
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/api/v1/health", process)
        status, body = get(f"http://127.0.0.1:{port}/api/v1/ready")
        assert (status, json.loads(body)["pending_migrations"]) == (200, [])
    finally:
        assert stop_process(process) == 0


def test_migrate_on_an_unreachable_database_is_one_line(service, free_tcp_port):
    result = run_module(
        f"{service}_app", "migrate", env={"DATABASE_URL": f"mysql://guestsync@127.0.0.1:{free_tcp_port}/nowhere"}
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"{service}: migrate failed:") and "Can't connect" in lines[0]


@pytest.fixture
def free_tcp_port() -> int:
    return free_port()  # nothing listens there: connections are refused at once


def test_the_standalone_worker_serves_metrics_health_and_readiness(pms_db, tmp_path):
    port = free_port()
    process = start_module(
        ["pms_app", "worker"],
        {
            "DATABASE_URL": pms_db.url,
            "WORKER_METRICS_PORT": str(port),
            "CRM_WEBHOOK_URL": "http://127.0.0.1:9/api/v1/webhooks/pms",
        },
        str(tmp_path / "worker.log"),
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/health", process)
        status, metrics = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        for name in (
            "pms_deliveries_total",
            "pms_delivery_breaker_state",
            "process_cpu_seconds_total",
            "python_info",
            'pms_deliveries_failed{endpoint="crm"} 0.0',
            'pms_delivery_oldest_pending_age_seconds{endpoint="crm"} 0.0',
            "pms_delivery_breaker{",
        ):
            assert name.encode() in metrics, name
        status, body = get(f"http://127.0.0.1:{port}/ready")
        assert status == 200 and json.loads(body)["service"] == "pms-worker"
        head = urllib.request.Request(f"http://127.0.0.1:{port}/health", method="HEAD")
        with urllib.request.urlopen(head, timeout=5) as response:
            assert response.status == 200 and response.read() == b""
        assert get(f"http://127.0.0.1:{port}/api/v1/guests")[0] == 404  # no API here
        # The containers' health check command, against this worker.
        probe = run_module("core.probe", f"http://127.0.0.1:{port}/ready", env={})
        assert probe.returncode == 0, probe.stderr
        refused = run_module("core.probe", env={"HEALTHCHECK_URL": f"http://127.0.0.1:{port}/nowhere"})
        assert refused.returncode == 1 and "/nowhere: 404" in refused.stderr
    finally:
        assert stop_process(process) == 0


def test_a_worker_whose_metrics_port_is_taken_says_so(pms_db, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_module("pms_app", "worker", env={"DATABASE_URL": pms_db.url, "WORKER_METRICS_PORT": str(port)})
    assert result.returncode == 1
    assert f"cannot listen on WORKER_METRICS_PORT {port}" in result.stderr and "Traceback" not in result.stderr
