"""Prometheus metrics: one registry per application, exposed at ``GET /metrics``.

A registry per app (not prometheus-client's global one) keeps several apps in one test
process from colliding. Services add their own counters to ``Metrics`` through ``counter()``
and ``gauge()``. A gauge whose truth is in the database (shared by every process) registers a
``before_scrape`` hook: an async function the handler awaits before rendering, which reads the
database through the ``Store`` and sets the gauge. Every registry also carries
prometheus-client's process, platform and garbage-collector collectors (memory, CPU, open
files, Python version), which the global registry would have had.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from tornado.web import RequestHandler

from .handlers import APIHandler

log = logging.getLogger("guestsync.metrics")


def add_process_collectors(registry: CollectorRegistry) -> None:
    """``process_*`` (memory, CPU, file descriptors; Linux only), ``python_info`` and ``python_gc_*``."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)


class Metrics:
    def __init__(self, service: str):
        self.service = service
        self.registry = CollectorRegistry()
        add_process_collectors(self.registry)
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests served", ["method", "route", "status"], registry=self.registry
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self._requests = Children(self.http_requests)
        self._latency = Children(self.http_latency)
        self.scrape_hooks: list[Callable[[], Awaitable[None]]] = []

    def before_scrape(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Await ``hook()`` before each ``GET /metrics`` renders (its failure keeps the last values)."""
        self.scrape_hooks.append(hook)

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(name, doc, list(labels), registry=self.registry)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, list(labels), registry=self.registry)

    def observe_request(self, handler: RequestHandler, status: int, seconds: float) -> None:
        route = getattr(handler, "route_name", None) or type(handler).__name__
        method = handler.request.method or "GET"
        # The method comes from the client: an unbounded set of label values would be a new
        # series each, kept forever (memory, and a /metrics too large to scrape).
        if method not in RequestHandler.SUPPORTED_METHODS:
            method = "other"
        self._requests(method, route, str(status)).inc()
        self._latency(method, route).observe(seconds)


class Children:
    """The children of a labelled metric, each looked up once per combination of values:
    prometheus-client's ``labels()`` checks the values and takes a lock on every call. Only
    for labels whose values come from a bounded set (the cache keeps every combination)."""

    __slots__ = ("metric", "cache")

    def __init__(self, metric):
        self.metric = metric
        self.cache: dict[tuple[str, ...], object] = {}

    def __call__(self, *values: str):
        child = self.cache.get(values)
        if child is None:
            child = self.cache[values] = self.metric.labels(*values)
        return child


class MetricsHandler(APIHandler):
    """``GET /metrics`` in Prometheus text format, never behind the API token; its errors
    (a wrong method, say) are the API's JSON errors like every other answer of the service."""

    requires_auth = False
    rate_limited = False  # scrapers must keep reading whatever clients do

    async def get(self) -> None:
        metrics: Metrics = self.settings["metrics"]
        for hook in metrics.scrape_hooks:
            try:
                await hook()
            except Exception as exc:  # noqa: BLE001 - the database may be down; metrics still answer
                log.warning("refreshing metrics before a scrape failed: %s", exc)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(generate_latest(metrics.registry))
