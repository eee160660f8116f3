"""Assembling a service's Tornado ``Application`` the same way for every API service.

``ApiApplication`` resolves the client behind trusted proxies and sends every CORS preflight
to ``PreflightHandler`` before the service's own routes are looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import tornado.web
from tornado.httputil import HTTPServerRequest

from .cors import CorsPolicy, is_preflight
from .db import Store, open_database
from .access_log import AccessLogSample, log_request
from .handlers import InFlight, NotFoundHandler
from .health import HealthHandler
from .jsonio import dumps
from .metrics import Metrics, MetricsHandler
from .openapi.handler import OpenApiHandler
from .preflight import PreflightHandler
from .proxies import ProxyAwareApplication
from .ratelimit import RateLimiter
from .readiness import ReadyHandler
from .response_headers import ApiHeaders


class ApiApplication(ProxyAwareApplication):
    """A service's API: trusted-proxy resolution, then preflights, then the routes."""

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any):
        delegate = super().find_handler(request, **kwargs)
        if is_preflight(request.method, request.headers):
            return self.get_handler_delegate(request, PreflightHandler)
        return delegate


def open_store(database_url: str, threads: int, name: str, extra_connections: int = 4) -> Store:
    """A ``Store`` whose connection pool covers every executor thread plus ``extra_connections``."""
    database = open_database(database_url, max_connections=threads + extra_connections)
    return Store(database, max_workers=threads, name=name)


def api_application(
    service: str,
    base_path: str,
    routes: Iterable[tuple],
    *,
    config: Any,
    store: Store,
    metrics: Metrics,
    api_token: str | None,
    max_body_bytes: int,
    openapi: Callable[[str], dict] | None = None,
    **settings: Any,
) -> tornado.web.Application:
    """Routes under ``base_path`` plus ``{base}/health``, ``{base}/ready`` and ``/metrics``; JSON
    404 elsewhere. ``openapi(base_path)`` builds the service's OpenAPI document, served at
    ``{base}/openapi.json``.

    ``config`` supplies ``trusted_proxies``, ``api_rate_limit``, ``cors_allowed_origins`` and
    ``otel_exporter_otlp_endpoint`` (when set, OpenTelemetry's spans give each request its trace).
    ``access_log_sample`` (the share of 2xx answers that get an access-log line).
    ``/ready`` checks the migrations of ``migrations/<service>`` unless ``migrations=`` names
    another folder (the standalone worker is its own service over the PMS's schema).
    """
    settings.setdefault("migrations", service)
    if getattr(config, "otel_exporter_otlp_endpoint", None):
        # Traces are exported: a request's trace context is its OpenTelemetry server span's.
        from .otel import current_trace_context

        settings.setdefault("trace_source", current_trace_context)
    handlers = [(base_path + r"/health", HealthHandler), (base_path + r"/ready", ReadyHandler)]
    if openapi is not None:
        handlers.append((base_path + r"/openapi\.json", OpenApiHandler))
        settings["openapi_json"] = dumps(openapi(base_path))
    handlers += [(base_path + pattern, *rest) for pattern, *rest in routes]
    handlers += [(r"/metrics", MetricsHandler)]
    return ApiApplication(
        handlers,
        service=service,
        config=config,
        store=store,
        metrics=metrics,
        api_token=api_token,
        max_body_bytes=max_body_bytes,
        in_flight=InFlight(),
        trusted_proxies=config.trusted_proxies,
        rate_limiter=RateLimiter(config.api_rate_limit) if config.api_rate_limit else None,
        cors=CorsPolicy.of(config.cors_allowed_origins),
        default_handler_class=NotFoundHandler,
        log_function=log_request,
        access_log_sample=AccessLogSample(config.access_log_sample),
        compress_response=False,
        transforms=[ApiHeaders],
        **settings,
    )
