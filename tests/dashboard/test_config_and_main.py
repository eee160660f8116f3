"""``DashboardSettings.from_env`` and ``python -m dashboard`` as a process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from core.config import ConfigError
from dashboard.config import DashboardSettings
from tests.support.processes import free_port, start_module, stop_process, wait_until_answers

ROOT = Path(__file__).resolve().parents[2]
NO_FILE = {"ENV_FILE": os.devnull}


def test_defaults_follow_the_spec():
    settings = DashboardSettings.from_env(NO_FILE)
    assert settings.port == 8080
    assert settings.pms_api == "http://localhost:4001/api/v1"
    assert settings.crm_api == "http://localhost:5001/api/v1"
    assert settings.poll_seconds == 1.0
    assert settings.pms_api_token is None and settings.crm_api_token is None
    assert settings.token_generated and len(settings.token) >= 24


def test_values_come_from_the_environment():
    settings = DashboardSettings.from_env(
        {
            **NO_FILE,
            "APP_PORT": "9090",
            "PMS_URL": "https://pms.hotel.test/",
            "CRM_URL": "http://crm:5001",
            "PMS_API_TOKEN": "p",
            "CRM_API_TOKEN": "c",
            "DASHBOARD_POLL_SECONDS": "0.5",
            "DASHBOARD_TOKEN": "letmein",
        }
    )
    assert (settings.port, settings.pms_api, settings.crm_api) == (
        9090,
        "https://pms.hotel.test/api/v1",
        "http://crm:5001/api/v1",
    )
    assert (settings.pms_api_token, settings.crm_api_token, settings.poll_seconds) == ("p", "c", 0.5)
    assert settings.token == "letmein" and not settings.token_generated
    assert "letmein" not in repr(settings) and "'p'" not in repr(settings)


@pytest.mark.parametrize(
    "name, value",
    [
        ("PMS_URL", "localhost:4001"),
        ("DASHBOARD_POLL_SECONDS", "soon"),
        ("APP_PORT", "-1"),
        ("DASHBOARD_POLL_SECONDS", "0"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        DashboardSettings.from_env({**NO_FILE, name: value})


def test_the_process_prints_a_generated_token_serves_and_stops_on_sigterm(tmp_path):
    port = free_port()
    proc = start_module(["dashboard"], {"APP_PORT": str(port), "DASHBOARD_TOKEN": None}, tmp_path / "out.log")
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/login", proc)
        response = requests.get(f"http://127.0.0.1:{port}/", allow_redirects=False, timeout=5)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    finally:
        assert stop_process(proc, 15) == 0
    output = open(tmp_path / "out.log").read()
    token_lines = [line for line in output.splitlines() if line.startswith("dashboard login token: ")]
    assert len(token_lines) == 1
    token = token_lines[0].split(": ", 1)[1]
    assert len(token) >= 24
    assert output.count(token) == 1  # printed once, never logged
