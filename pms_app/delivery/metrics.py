"""The delivery worker's Prometheus metrics, registered on the service's ``Metrics`` registry."""

from __future__ import annotations

from prometheus_client import Histogram

from core.metrics import Metrics

from .breaker import SEVERITY


class DeliveryMetrics:
    def __init__(self, metrics: Metrics):
        self.outcomes = metrics.counter(
            "pms_deliveries_total",
            "Delivery attempts by outcome (delivered, retry, failed, discarded)", ("outcome",))
        self.latency = Histogram(
            "pms_delivery_attempt_seconds", "Duration of one delivery attempt",
            registry=metrics.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.breaker = metrics.gauge(
            "pms_delivery_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open",
            ("endpoint",))
        self.backlog = metrics.gauge(
            "pms_outbox_backlog", "Outbox events pending or in flight")

    def attempt(self, outcome: str, seconds: float) -> None:
        self.outcomes.labels(outcome).inc()
        self.latency.observe(seconds)

    def breaker_state(self, endpoint: str, state: str) -> None:
        self.breaker.labels(endpoint).set(SEVERITY[state])
