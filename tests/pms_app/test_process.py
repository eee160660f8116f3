"""``python -m pms_app``: migrate, rollback, serve, and a clean stop on SIGTERM/SIGINT."""

import os
import signal
import socket
import time

import pytest

from core.config import REPO_ROOT
from tests.support.processes import free_port, run_module, start_module, wait_until_answers


def test_migrate_rollback_migrate(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/pms.db"}
    names = sorted(p.stem for p in (REPO_ROOT / "migrations" / "pms").glob("[0-9]*.py"))
    first = run_module("pms_app", "migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith(", ".join(names))
    again = run_module("pms_app", "migrate", env=env)
    assert "none pending" in again.stdout
    assert run_module("pms_app", "rollback", env=env).returncode == 0
    assert run_module("pms_app", "migrate", env=env).stdout.strip().endswith(f": {names[-1]}")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_signal(tmp_path, stop_signal):
    url = f"sqlite:///{tmp_path}/pms.db"
    assert run_module("pms_app", "migrate", env={**os.environ, "DATABASE_URL": url}).returncode == 0
    port = free_port()
    process = start_module(
        ["pms_app", "--no-worker"], {"DATABASE_URL": url, "APP_PORT": str(port)}, str(tmp_path / "pms.log")
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/api/v1/health", process)
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "pms.log").read_text()
    assert '"msg": "pms stopped"' in log


def _cut_short_requests(port: int) -> None:
    """Two requests refused while their bodies are read: a client that hangs up mid-body, and
    one that breaks the chunked framing (answered with a bare 400 and a closed connection)."""
    head = (f"POST /api/v1/guests HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + b"Content-Length: 1000\r\n\r\n" + b'{"name": "')
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n" + b"zz\r\nnot a chunk size\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400")


def test_sigterm_after_requests_cut_short_mid_body_stops_promptly(tmp_path):
    url = f"sqlite:///{tmp_path}/pms.db"
    assert run_module("pms_app", "migrate", env={**os.environ, "DATABASE_URL": url}).returncode == 0
    port = free_port()
    process = start_module(
        ["pms_app", "--no-worker"], {"DATABASE_URL": url, "APP_PORT": str(port)}, str(tmp_path / "pms.log")
    )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/api/v1/health", process)
        _cut_short_requests(port)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        # Well under the 10 s the server would wait for requests it wrongly thought in flight.
        assert process.wait(timeout=5) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "pms.log").read_text()
    assert "still in flight" not in log
    assert '"msg": "pms stopped"' in log
