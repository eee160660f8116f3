"""Prometheus metrics: one registry per application, exposed at ``GET /metrics``.

A registry per app (not prometheus-client's global one) keeps several apps in one test
process from colliding. Services add their own counters to ``Metrics`` through ``counter()``
and ``gauge()``.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from tornado.web import RequestHandler

from .handlers import APIHandler


class Metrics:
    def __init__(self, service: str):
        self.service = service
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests served", ["method", "route", "status"],
            registry=self.registry)
        self.http_latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(name, doc, list(labels), registry=self.registry)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, list(labels), registry=self.registry)

    def observe_request(self, handler: RequestHandler) -> None:
        route = getattr(handler, "route_name", None) or type(handler).__name__
        method = handler.request.method or "GET"
        # The method comes from the client: an unbounded set of label values would be a new
        # series each, kept forever (memory, and a /metrics too large to scrape).
        if method not in RequestHandler.SUPPORTED_METHODS:
            method = "other"
        status = str(handler.get_status())
        self.http_requests.labels(method, route, status).inc()
        self.http_latency.labels(method, route).observe(handler.request.request_time())


class MetricsHandler(APIHandler):
    """``GET /metrics`` in Prometheus text format, never behind the API token; its errors
    (a wrong method, say) are the API's JSON errors like every other answer of the service."""

    requires_auth = False
    rate_limited = False  # scrapers must keep reading whatever clients do

    def get(self) -> None:
        metrics: Metrics = self.settings["metrics"]
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(generate_latest(metrics.registry))
