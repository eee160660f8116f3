"""Assembling a service's Tornado ``Application`` the same way for every API service."""

from __future__ import annotations

from typing import Any, Iterable

import tornado.web

from .db import Store, open_database
from .handlers import InFlight, NotFoundHandler, log_request
from .health import HealthHandler
from .metrics import Metrics, MetricsHandler
from .response_headers import ApiHeaders


def open_store(database_url: str, threads: int, name: str, extra_connections: int = 4) -> Store:
    """A ``Store`` whose connection pool covers every executor thread plus ``extra_connections``."""
    database = open_database(database_url, max_connections=threads + extra_connections)
    return Store(database, max_workers=threads, name=name)


def api_application(service: str, base_path: str, routes: Iterable[tuple], *, config: Any,
                    store: Store, metrics: Metrics, api_token: str | None, max_body_bytes: int,
                    **settings: Any) -> tornado.web.Application:
    """Routes under ``base_path`` plus ``{base}/health`` and ``/metrics``; JSON 404 elsewhere."""
    handlers = [(base_path + r"/health", HealthHandler)]
    handlers += [(base_path + pattern, *rest) for pattern, *rest in routes]
    handlers += [(r"/metrics", MetricsHandler)]
    return tornado.web.Application(
        handlers,
        service=service,
        config=config,
        store=store,
        metrics=metrics,
        api_token=api_token,
        max_body_bytes=max_body_bytes,
        in_flight=InFlight(),
        default_handler_class=NotFoundHandler,
        log_function=log_request,
        compress_response=False,
        transforms=[ApiHeaders],
        **settings,
    )
