"""Starting the services as real processes for tests that need signals or process death."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from core.config import REPO_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_module(args: list[str], env: dict[str, str], log_path: str) -> subprocess.Popen:
    """``python -m <args>`` from the repository root, output to ``log_path``.

    A standalone worker serves no metrics port unless ``env`` names one: the default 4002 would
    collide between workers of one test, and with other runs on the machine.
    """
    full_env = {**os.environ, "ENV_FILE": os.devnull, "PYTHONUNBUFFERED": "1", "WORKER_METRICS_PORT": "0", **env}
    log = open(log_path, "wb")
    return subprocess.Popen([sys.executable, "-m", *args], cwd=REPO_ROOT, env=full_env,
                            stdout=log, stderr=subprocess.STDOUT)


def wait_until_answers(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")
