"""JSON-lines logging with the current request id and trace id in every line.

``request_id_var`` (here) and ``core.tracing.trace_var`` are set by the base handler for the
duration of a request; executor threads inherit them because ``Store.run`` copies the context.
A line about one webhook names it with the ``extra`` fields ``webhook_id`` and ``endpoint``
(and ``trace_id`` when it is not the request's own, as on the delivery worker's threads).
``configure_logging()`` is called once by each service's entry point.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time

from .tracing import trace_var

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id, trace_id and any ``extra`` fields.

    Written for a line per request: the timestamp's text up to the second is kept from the
    previous line, and one encoder serves every line (``json.dumps`` with options builds one
    per call)."""

    def __init__(self, service: str | None = None):
        super().__init__()
        self.service = service
        self._encode = json.JSONEncoder(default=str, ensure_ascii=False).encode
        self._second = -1
        self._second_text = ""

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        trace = trace_var.get()
        if trace is not None:
            entry["trace_id"] = trace.trace_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key not in entry and key[0] != "_":
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._encode(entry)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
