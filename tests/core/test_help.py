"""``--help`` on every command a person types answers with its usage and exit status 0, and never
starts anything (a help flag taken for a URL or ignored would probe, serve or migrate)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.config import REPO_ROOT

COMMANDS = [
    ("pms_app",),
    ("pms_app", "worker"),
    ("pms_app", "migrate"),
    ("pms_app", "reconcile"),
    ("crm_app",),
    ("crm_app", "migrate"),
    ("dashboard",),
    ("dashboard", "serve"),
    ("dashboard", "users"),
    ("dashboard", "users", "add"),
    ("core.probe",),
    ("core.makemigration",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_and_starts_nothing(command, flag, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", *command, flag],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "ENV_FILE": os.devnull,
            # Were anything started, it would show here.
            "DATABASE_URL": f"sqlite:///{tmp_path}/never.db",
            "APP_PORT": "1",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m "), result.stdout
    assert result.stderr == ""
    assert not (tmp_path / "never.db").exists()
