"""What a worker knows about each endpoint: its settings as last read, its sender, its breaker.

``load_endpoints`` reads every endpoint and its unexpired secrets in one unit of work; the
worker calls it at start, on every heartbeat and whenever a claim names an endpoint it has not
seen yet, so the hot path never reads the endpoint table. ``Destination`` keeps the sender and
the breaker of one endpoint and rebuilds the sender only when its URL, secrets or timeout
changed, so keep-alive connections and the breaker's count survive a refresh; a change of the
breaker's numbers starts a new breaker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.config import redact_url
from core.db import utcnow
from core.signing import keys_from_secrets

from ..config import PmsSettings
from ..endpoints.models import Endpoint, EndpointSecret
from .breaker import BreakerSnapshot, EndpointBreaker
from .retry import schedule_of
from .sender import Sender
from .url_safety import IPNetwork

log = logging.getLogger("guestsync.delivery")


@dataclass(frozen=True)
class EndpointConfig:
    id: int
    name: str
    url: str
    secrets: tuple[str, ...]
    enabled: bool
    timeout_seconds: float
    retry_schedule: tuple[float, ...]
    breaker_failure_threshold: int
    breaker_recovery_seconds: float
    max_in_flight: int = 8
    rate_limit_per_second: float | None = None

    @property
    def label(self) -> str:
        """How logs and metrics name the endpoint (never with credentials)."""
        return self.name

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)


def load_endpoints(settings: PmsSettings) -> dict[int, EndpointConfig]:
    """Every endpoint with its effective settings (a null column takes the service default)."""
    now = utcnow()
    secrets: dict[int, list[str]] = {}
    for endpoint_id, secret, expires_at in (
        EndpointSecret.select(EndpointSecret.endpoint, EndpointSecret.secret, EndpointSecret.expires_at)
        .order_by(EndpointSecret.id)
        .tuples()
    ):
        if expires_at is None or expires_at > now:
            secrets.setdefault(endpoint_id, []).append(secret)
    configs = {}
    for e in Endpoint.select():
        configs[e.id] = EndpointConfig(
            id=e.id,
            name=e.name,
            url=e.url,
            secrets=tuple(secrets.get(e.id, ())),
            enabled=bool(e.enabled),
            timeout_seconds=e.timeout_seconds or settings.delivery_timeout_seconds,
            retry_schedule=schedule_of(e.retry_schedule, settings.retry_schedule),
            max_in_flight=e.max_in_flight or settings.delivery_concurrency,
            rate_limit_per_second=e.rate_limit_per_second or None,
            breaker_failure_threshold=e.breaker_failure_threshold or settings.breaker_failure_threshold,
            breaker_recovery_seconds=(
                e.breaker_recovery_seconds
                if e.breaker_recovery_seconds is not None
                else settings.breaker_recovery_seconds
            ),
        )
    return configs


class InFlightLimit:
    """At most ``limit`` attempts at once to one endpoint from this worker (``max_in_flight``):
    ``with limit:`` around a send waits for a free place. The limit can change while in use."""

    def __init__(self, limit: int):
        self.limit = limit
        self._busy = 0
        self._free = threading.Condition()

    def __enter__(self) -> InFlightLimit:
        with self._free:
            while self._busy >= self.limit:
                self._free.wait()
            self._busy += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._free:
            self._busy -= 1
            self._free.notify()

    def resize(self, limit: int) -> None:
        with self._free:
            self.limit = limit
            self._free.notify_all()


class Destination:
    def __init__(
        self,
        config: EndpointConfig,
        owner: str,
        on_breaker_change: Callable[[int, BreakerSnapshot, str], None],
        denied: Iterable[IPNetwork] = (),
    ):
        self.config = config
        self._denied = tuple(denied)  # ENDPOINT_DENIED_NETWORKS, checked at every attempt
        self._owner = owner
        self._on_breaker_change = on_breaker_change
        self.sender = self._new_sender(config)
        self.breaker = self._new_breaker(config)
        self.in_flight = InFlightLimit(config.max_in_flight)

    @property
    def id(self) -> int:
        return self.config.id

    def _new_sender(self, config: EndpointConfig) -> Sender | None:
        """``None`` when the endpoint has no valid secret left: its attempts fail, unsigned ones
        are never sent."""
        if not config.secrets:
            return None
        return Sender(config.url, keys_from_secrets(config.secrets), config.timeout_seconds, denied=self._denied)

    def _new_breaker(self, config: EndpointConfig) -> EndpointBreaker:
        return EndpointBreaker(
            str(config.id),
            config.breaker_failure_threshold,
            config.breaker_recovery_seconds,
            on_change=lambda snap, previous: self._on_breaker_change(config.id, snap, previous),
            owner=self._owner,
        )

    def refresh(self, config: EndpointConfig) -> None:
        old = self.config
        if (old.url, old.secrets, old.timeout_seconds) != (config.url, config.secrets, config.timeout_seconds):
            self.sender = self._new_sender(config)
        if (old.breaker_failure_threshold, old.breaker_recovery_seconds) != (
            config.breaker_failure_threshold,
            config.breaker_recovery_seconds,
        ):
            self.breaker = self._new_breaker(config)
        if old.max_in_flight != config.max_in_flight:
            self.in_flight.resize(config.max_in_flight)
        self.config = config

    def close(self) -> None:
        if self.sender is not None:
            self.sender.close()
