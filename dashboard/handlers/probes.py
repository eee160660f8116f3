"""``/health`` and ``/metrics`` of the dashboard, for load balancers, container health checks and
Prometheus. Neither needs a login; neither shows anything an operator's session protects.

The dashboard has no database: it is healthy when it answers. Its metrics are the process
collectors (memory, CPU, open files), the number of live-feed websockets and the live feed's
completed polls.
"""

from __future__ import annotations

import json

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from core.handlers import BaseHandler

from ..headers import set_protective_headers


class ProbeHandler(BaseHandler):
    def set_default_headers(self) -> None:
        super().set_default_headers()
        set_protective_headers(self)

    def check_xsrf_cookie(self) -> None:
        """Only GET and HEAD are routed here; nothing to protect from forged forms."""


class HealthHandler(ProbeHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"status": "ok", "service": "dashboard"}))

    def head(self) -> None:
        self.get()


class MetricsHandler(ProbeHandler):
    def get(self) -> None:
        registry: CollectorRegistry = self.settings["metrics_registry"]
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(registry))


default_handlers = [
    (r"/health", HealthHandler),
    (r"/metrics", MetricsHandler),
]
