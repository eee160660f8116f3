"""The access log and request metrics, written once per request (Tornado's ``log_function``).

Every request is counted in the metrics. Every answer that is not a 2xx gets a JSON access-log
line; of the 2xx answers, the share given by the application's ``access_log_sample`` setting
(an ``AccessLogSample``; absent means all of them) does, spread evenly, and those lines carry
``"sample": share`` so a count made from the log can be scaled back.
"""

from __future__ import annotations

import logging
from typing import Any

from tornado.web import RequestHandler


access_log = logging.getLogger("guestsync.access")


class AccessLogSample:
    """Which 2xx answers get a line: exactly ``share`` of them, evenly spread and predictable
    (every 10th at 0.1), so the log's volume is known and a test needs no luck."""

    _WHOLE = 1_000_000  # shares are counted in millionths, so that the spread stays exact

    def __init__(self, share: float):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"the access-log sample must be between 0 and 1, got {share}")
        self.share = share
        self._step = round(share * self._WHOLE)
        self._credit = self._WHOLE - self._step if self._step else 0  # the first 2xx is logged

    def take(self) -> bool:
        self._credit += self._step
        if self._credit >= self._WHOLE:
            self._credit -= self._WHOLE
            return True
        return False


def log_request(handler: RequestHandler) -> None:
    """Count the request in the metrics and write its access-log line if it gets one."""
    request = handler.request
    status = handler.get_status()
    seconds = request.request_time()
    metrics = handler.settings.get("metrics")
    if metrics is not None:
        metrics.observe_request(handler, status, seconds)
    extra: dict[str, Any] = {}
    if 200 <= status < 300:
        sample: AccessLogSample | None = handler.settings.get("access_log_sample")
        if sample is not None and sample.share < 1.0:
            if not sample.take():
                return
            extra["sample"] = sample.share
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    if not access_log.isEnabledFor(level):
        return
    extra.update(
        request_id=getattr(handler, "request_id", None),
        status=status,
        method=request.method,
        path=request.path,
        duration_ms=round(1000.0 * seconds, 2),
        remote_ip=request.remote_ip,
    )
    access_log.log(level, "%s %s %s", request.method, request.path, status, extra=extra)
