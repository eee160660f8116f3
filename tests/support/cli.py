"""Running ``python -m pms_app`` ops commands in tests: in-process through ``main(argv)``, or as a
real process, against a test database, with the exit status and both outputs captured."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from core.config import REPO_ROOT


@dataclass
class Outcome:
    status: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """``cli("endpoints", "list")`` runs ``python -m pms_app endpoints list`` in this process on
    the test database and returns its ``Outcome``.

    The command binds the models to a database of its own and configures logging, as a real run
    does; afterwards the models are bound to the test's database again and the root logger is
    put back as it was (other tests rely on pytest's log handlers).
    """

    def __init__(self, database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
        """``database``: a ``TestDatabase``, or anything with ``url`` and ``database`` (``None``
        for a database the test does not open itself)."""
        self.database = database
        self.capsys = capsys
        self.env = {"ENV_FILE": os.devnull, "DATABASE_URL": database.url, "LOG_LEVEL": "INFO"}
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        for name in ("API_TOKEN", "OPS_WEBHOOK_URL", "ENDPOINT_DENIED_NETWORKS"):
            monkeypatch.delenv(name, raising=False)

    def __call__(self, *argv: str) -> Outcome:
        from pms_app.__main__ import main
        from pms_app.models import db

        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        self.capsys.readouterr()
        try:
            status = main(list(argv))
        except SystemExit as exc:  # argparse: --help (0) and bad arguments (2)
            status = exc.code if isinstance(exc.code, int) else 1
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
            if self.database.database is not None:
                db.initialize(self.database.database)
        captured = self.capsys.readouterr()
        return Outcome(status, captured.out, captured.err)

    def process(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 60) -> Outcome:
        """The same command as a real process (``python -m pms_app ...``)."""
        done = subprocess.run(
            [sys.executable, "-m", "pms_app", *argv],
            check=False,
            cwd=REPO_ROOT,
            env={**os.environ, **self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)
