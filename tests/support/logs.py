"""Capturing the JSON log lines a test causes, formatted where they are emitted (the trace and
request ids are read from the emitting thread's context)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator

from core.logging import JSONFormatter


class JsonLines(logging.Handler):
    def __init__(self, service: str = "test"):
        super().__init__(logging.DEBUG)
        self.setFormatter(JSONFormatter(service))
        self.lines: list[dict] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = json.loads(self.format(record))
        with self._lock:
            self.lines.append(line)

    def about(self, webhook_id: str) -> list[dict]:
        with self._lock:
            return [line for line in self.lines if line.get("webhook_id") == webhook_id]


@contextlib.contextmanager
def json_lines(*loggers: str) -> Iterator[JsonLines]:
    """Collect the lines of ``loggers`` (INFO and up) while the block runs."""
    capture = JsonLines()
    targets = [logging.getLogger(name) for name in loggers]
    levels = [target.level for target in targets]
    for target in targets:
        target.addHandler(capture)
        target.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        for target, level in zip(targets, levels, strict=True):
            target.removeHandler(capture)
            target.setLevel(level)
