"""The delivery worker's Prometheus metrics, registered on the service's ``Metrics`` registry.

Counters and the attempt histogram are this worker's own. The breaker metrics are this worker's
view of each endpoint (every worker process keeps its own breakers). The queue gauges, failed
deliveries and the age of the oldest undelivered one per endpoint, are the database's truth,
read before each scrape with the health page's figures (``queue_metrics``), so every process
that runs a worker reports the same values: aggregate them with ``max``.
"""

from __future__ import annotations

from prometheus_client import Enum, Histogram

from core.db import Store, utcnow
from core.metrics import Metrics

from .breaker import SEVERITY, STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN
from .queue_metrics import endpoint_queue


class DeliveryMetrics:
    def __init__(self, metrics: Metrics):
        self.metrics = metrics
        self.outcomes = metrics.counter(
            "pms_deliveries_total", "Delivery attempts by outcome (delivered, retry, failed, discarded)", ("outcome",)
        )
        self.latency = Histogram(
            "pms_delivery_attempt_seconds",
            "Duration of one delivery attempt",
            registry=metrics.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.breaker = metrics.gauge(
            "pms_delivery_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open", ("endpoint",)
        )
        self.breaker_states = Enum(
            "pms_delivery_breaker",
            "Circuit breaker state of each endpoint in this worker",
            ["endpoint"],
            states=[STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN],
            registry=metrics.registry,
        )
        self.backlog = metrics.gauge("pms_outbox_backlog", "Outbox events pending or in flight")
        self.failed = metrics.gauge(
            "pms_deliveries_failed",
            "Deliveries whose retries are exhausted (failed, replayable), per endpoint",
            ("endpoint",),
        )
        self.oldest_age = metrics.gauge(
            "pms_delivery_oldest_pending_age_seconds",
            "Age of the oldest undelivered (pending or in flight) delivery per endpoint, 0 when none",
            ("endpoint",),
        )
        self._queue_endpoints: set[str] = set()

    def attempt(self, outcome: str, seconds: float) -> None:
        self.outcomes.labels(outcome).inc()
        self.latency.observe(seconds)

    def breaker_state(self, endpoint: str, state: str) -> None:
        self.breaker.labels(endpoint).set(SEVERITY[state])
        self.breaker_states.labels(endpoint).state(state)

    def watch_queue(self, store: Store) -> None:
        """Read the queue gauges from the database before every scrape of this registry."""

        async def refresh() -> None:
            self.show_queue(await store.run(endpoint_queue, transaction=False))

        self.metrics.before_scrape(refresh)

    def show_queue(self, queues) -> None:
        now = utcnow()
        seen = set()
        for queue in queues:
            seen.add(queue.endpoint)
            self.failed.labels(queue.endpoint).set(queue.failed)
            oldest = queue.oldest_undelivered
            self.oldest_age.labels(queue.endpoint).set(
                max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
            )
        for gone in self._queue_endpoints - seen:  # a deleted endpoint's series go with it
            self.failed.remove(gone)
            self.oldest_age.remove(gone)
        self._queue_endpoints = seen
