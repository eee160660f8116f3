"""The dashboard's ``/health`` (GET and HEAD) and ``/metrics``: no login, protective headers,
process collectors and the live feed's websocket count; ``serve --help`` prints help."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from core.config import REPO_ROOT

from .test_headers import assert_protected


@pytest.mark.gen_test
async def test_health_answers_get_and_head_without_a_login(visitor):
    response = await visitor.get("/health")
    assert response.code == 200
    assert json.loads(response.body) == {"status": "ok", "service": "dashboard"}
    assert_protected(response, "health")
    head = await visitor.http.fetch(visitor.base_url + "/health", method="HEAD", raise_error=False)
    assert head.code == 200 and head.body == b""


@pytest.mark.gen_test
async def test_metrics_count_live_clients_and_carry_process_collectors(visitor, fake_pms, fake_crm, hub):
    await visitor.login()
    socket = await visitor.websocket()
    try:
        # The server registers the client just after the handshake: poll with a deadline.
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            text = (await visitor.get("/metrics")).body.decode()
            if "\ndashboard_live_clients 1.0" in text or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.01)
    finally:
        socket.close()
    assert "\ndashboard_live_clients 1.0" in text
    assert "\ndashboard_live_poll_ticks " in text
    for name in ("process_cpu_seconds_total", "python_info"):
        assert f"\n{name}" in text, name


def test_serve_help_prints_help_instead_of_refusing():
    result = subprocess.run(
        [sys.executable, "-m", "dashboard", "serve", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m dashboard") and "serve (the default)" in result.stdout
