"""The Docker setup: both compose files pass the CI check (and a broken one fails it), and
they keep the properties that make stops clean and starts ordered: no shell as PID 1,
migrations as one-shot services the others wait for, health checks and restart policies
everywhere, no database port in production, Prometheus scraping every process."""

from __future__ import annotations

import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from core.config import REPO_ROOT

CHECK = REPO_ROOT / ".ci" / "check_compose.py"
FILES = ("docker-compose.yml", "docker-compose.prod.yml")
APP_SERVICES = ("pms", "worker", "crm", "dashboard")


def load(name: str) -> dict:
    return YAML(typ="safe").load((REPO_ROOT / name).read_text())


def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), "--schema", *args], capture_output=True, text=True, timeout=120)


def test_both_compose_files_pass_the_check():
    result = run_check()
    assert result.returncode == 0, result.stderr
    assert "compose files valid" in result.stdout


def test_a_broken_compose_file_fails_the_check(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  a:\n    image: x\n    comand: [y]\n    depends_on: [b]\n")
    result = run_check(str(broken))
    assert result.returncode == 1
    assert "'comand' was unexpected" in result.stderr
    assert "service a depends on b, which the file does not define" in result.stderr


@pytest.mark.parametrize("name", FILES)
def test_services_stop_cleanly_start_in_order_and_report_health(name):
    services = load(name)["services"]
    for service_name, service in services.items():
        command = service.get("command")
        # A string command runs under /bin/sh, which never passes SIGTERM on.
        assert command is None or isinstance(command, list), service_name
        assert "sh" not in (command or [])[:1], service_name
    for migrator in ("pms-migrate", "crm-migrate"):
        assert services[migrator]["restart"] == "no"
    for service_name in APP_SERVICES:
        service = services[service_name]
        assert service["init"] is True and service["restart"] == "unless-stopped", service_name
        assert "core.probe" in service["healthcheck"]["test"], service_name
        conditions = {dep["condition"] for dep in service["depends_on"].values()}
        assert conditions <= {"service_healthy", "service_completed_successfully"}, service_name
    assert services["pms"]["depends_on"]["pms-migrate"]["condition"] == "service_completed_successfully"
    assert services["crm"]["depends_on"]["crm-migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["healthcheck"]["test"][-1].endswith(":4002/ready")


def test_production_publishes_no_database_port_and_scrapes_every_process():
    services = load("docker-compose.prod.yml")["services"]
    assert "ports" not in services["mysql"]
    for name in APP_SERVICES + ("mysql",):
        assert services[name].get("env_file"), name
    prometheus = YAML(typ="safe").load((REPO_ROOT / "docker/prometheus/prometheus.yml").read_text())
    targets = set()
    for job in prometheus["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets.update(static["targets"])
        for dns in job.get("dns_sd_configs", []):
            targets.update(f"{host}:{dns['port']}" for host in dns["names"])
    assert {"pms:4001", "crm:5001", "dashboard:8080", "worker:4002"} <= targets


def test_the_image_runs_python_as_an_unprivileged_user_with_a_health_check():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim AS build" in dockerfile and "COPY --from=build" in dockerfile
    for instruction in ("\nUSER guestsync", "\nEXPOSE ", "\nHEALTHCHECK ", '\nCMD ["python"'):
        assert instruction in dockerfile, instruction
