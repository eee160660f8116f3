"""``python -m pms_app migrate`` / ``python -m crm_app migrate`` as real processes on a database they
cannot use: one line on stderr naming the cause and a non-zero exit, never a traceback.

The unreachable server is covered beside the start-up check; here are the answers a reachable
MySQL/MariaDB server gives (refused credentials, unknown database) and a malformed URL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import urlparse

import pytest

from core.config import REPO_ROOT
from tests.support.databases import MYSQL_URL


def migrate(service: str, database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", f"{service}_app", "migrate"],
        cwd=REPO_ROOT,
        env={**os.environ, "ENV_FILE": os.devnull, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture(params=["pms", "crm"])
def service(request) -> str:
    return request.param


def server(user: str, password: str | None, database: str) -> str:
    parsed = urlparse(MYSQL_URL)
    auth = f"{user}:{password}" if password else user
    return f"mysql://{auth}@{parsed.hostname or '127.0.0.1'}:{parsed.port or 3306}/{database}"


@pytest.mark.skipif(not MYSQL_URL, reason="needs TEST_MYSQL_URL")
def test_refused_credentials_are_one_line(service):
    user = f"gs_nobody_{uuid.uuid4().hex[:8]}"  # no such account: the server refuses it
    result = migrate(service, server(user, "wrong-password", "gs_nowhere"))
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(f"{service}: migrate failed:") and "Access denied" in line
    assert "wrong-password" not in result.stderr + result.stdout


@pytest.mark.skipif(not MYSQL_URL, reason="needs TEST_MYSQL_URL")
def test_an_unknown_database_is_one_line(service):
    parsed = urlparse(MYSQL_URL)
    name = f"gs_missing_{uuid.uuid4().hex[:8]}"
    result = migrate(service, server(parsed.username or "root", parsed.password, name))
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(f"{service}: migrate failed:") and f"Unknown database '{name}'" in line


def test_a_malformed_url_is_a_configuration_error(service):
    result = migrate(service, "postgres://pms:hunter2@db/pms_db")
    assert result.returncode == 2
    line = one_line(result)
    assert line.startswith("configuration error: DATABASE_URL must look like") and "hunter2" not in line
