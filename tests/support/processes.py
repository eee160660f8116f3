"""Starting the services as real processes, for tests that need signals or process death and for
the benchmarks: free ports, ``python -m <module>`` with a clean environment, waiting until a URL
answers, and stopping with SIGTERM (SIGKILL only after a grace period)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from core.config import REPO_ROOT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def module_env(env: Mapping[str, str | None]) -> dict[str, str]:
    """The environment of a service started here: this process's, with no ``.env`` file read, output
    unbuffered, and ``env`` on top (a ``None`` value removes that variable).

    A standalone worker serves no metrics port unless ``env`` names one: the default 4002 would
    collide between workers of one run, and with other runs on the machine.
    """
    merged = {**os.environ, "ENV_FILE": os.devnull, "PYTHONUNBUFFERED": "1", "WORKER_METRICS_PORT": "0", **env}
    return {name: value for name, value in merged.items() if value is not None}


def start_module(args: list[str], env: Mapping[str, str | None], log_path: str | Path) -> subprocess.Popen:
    """``python -m <args>`` from the repository root, output to ``log_path``."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", *args], cwd=REPO_ROOT, env=module_env(env), stdout=log, stderr=subprocess.STDOUT
        )
    finally:
        log.close()  # the child holds its own descriptor


def run_module(
    *args: str, env: Mapping[str, str | None], timeout: float = 120.0, check: bool = False
) -> subprocess.CompletedProcess:
    """``python -m <args>`` to completion (``migrate``, a probe, ...), its output captured as text;
    ``check`` raises ``CalledProcessError`` on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        env=module_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def wait_until_answers(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Poll ``url`` until it answers below 400; fail early if ``process`` exits first."""
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


def stop_process(process: subprocess.Popen, grace: float = 20.0) -> int:
    """SIGTERM, then wait up to ``grace`` seconds before SIGKILL; the exit status (negative for a
    signal, as ``Popen.returncode``)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


class ModuleProcess:
    """One service process (``python -m <args>``) with its log file, for a run of several."""

    def __init__(self, args: list[str], env: Mapping[str, str | None], log_path: str | Path):
        self.args = args
        self.log_path = Path(log_path)
        self.process = start_module(args, env, self.log_path)

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        try:
            wait_until_answers(url, self.process, timeout)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; see {self.log_path}") from None

    def stop(self, grace: float = 30.0) -> int:
        return stop_process(self.process, grace)
