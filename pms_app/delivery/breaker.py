"""One circuit breaker per endpoint in a worker, around the ``circuitbreaker`` package.

The package counts consecutive failures and times the open period, but only its decorator
checks the open state, it takes no locks (in half-open every concurrent caller would get
through), it turns ``failure_threshold=0`` into 5 and ``recovery_timeout=0`` into 30, and it
registers breakers by name in a class-level monitor. ``EndpointBreaker`` adds what delivery
needs on top of it:

* ``admit()`` asks before a send: ``None`` while open (the event waits; no attempt is made),
  a normal ticket while closed, and exactly one probe ticket while half-open;
* ``record(ticket, ok)`` feeds the outcome back; while the breaker is not closed only the
  probe's outcome counts (stragglers admitted before it opened do not decide recovery);
* every change of state is reported to ``on_change`` so the worker can persist it.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from circuitbreaker import STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN, CircuitBreaker

from core.db import utcnow

__all__ = ["EndpointBreaker", "Ticket", "BreakerSnapshot", "STATE_CLOSED", "STATE_OPEN", "STATE_HALF_OPEN"]

SEVERITY = {STATE_CLOSED: 0, STATE_HALF_OPEN: 1, STATE_OPEN: 2}


class DeliveryFailure(Exception):
    """What the wrapped breaker sees when an attempt failed."""


@dataclass(frozen=True)
class Ticket:
    probe: bool


@dataclass(frozen=True)
class BreakerSnapshot:
    state: str
    failure_count: int
    opened_at: dt.datetime | None


class EndpointBreaker:
    def __init__(
        self,
        endpoint: str,
        failure_threshold: int,
        recovery_seconds: float,
        on_change: Callable[[BreakerSnapshot, str], None] | None = None,
        owner: str | None = None,
    ):
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.endpoint = endpoint
        # A recovery of 0 would silently become 30 inside the package: use a tiny positive one.
        recovery = recovery_seconds if recovery_seconds > 0 else 1e-3
        # The package's monitor is keyed by name: make ours unique per breaker instance.
        name = f"delivery:{owner or uuid.uuid4().hex}:{endpoint}"
        self._cb = CircuitBreaker(
            failure_threshold=failure_threshold,
            recovery_timeout=recovery,
            expected_exception=DeliveryFailure,
            name=name,
        )
        self._lock = threading.Lock()
        self._probe_in_flight = False
        self._opened_at: dt.datetime | None = None
        self._reported = STATE_CLOSED
        self._on_change = on_change

    # -- state -------------------------------------------------------------------------------

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            return self._snapshot_locked()

    def _snapshot_locked(self) -> BreakerSnapshot:
        state = self._cb.state
        return BreakerSnapshot(state, self._cb.failure_count, self._opened_at if state != STATE_CLOSED else None)

    @property
    def state(self) -> str:
        return self.snapshot().state

    def seconds_until_probe(self) -> float:
        """How long until a probe may go (0 when one may go now or the breaker is closed)."""
        with self._lock:
            if self._cb.state != STATE_OPEN:
                return 0.0
            return max(0.0, float(self._cb.open_remaining))

    def _changed(self) -> tuple[BreakerSnapshot, str] | None:
        snap = self._snapshot_locked()
        if snap.state != self._reported:
            previous, self._reported = self._reported, snap.state
            return snap, previous
        return None

    def _notify(self, change: tuple[BreakerSnapshot, str] | None) -> None:
        if change is not None and self._on_change is not None:
            self._on_change(*change)

    # -- sending -----------------------------------------------------------------------------

    def admit(self) -> Ticket | None:
        """A ticket to send now, or ``None`` when the breaker holds sends back."""
        with self._lock:
            state = self._cb.state
            change = self._changed()
            if state == STATE_CLOSED:
                ticket = Ticket(probe=False)
            elif state == STATE_HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                ticket = Ticket(probe=True)
            else:
                ticket = None
        self._notify(change)
        return ticket

    def release(self, ticket: Ticket) -> None:
        """Give a ticket back unused (the send did not happen)."""
        if ticket.probe:
            with self._lock:
                self._probe_in_flight = False

    def record(self, ticket: Ticket, ok: bool) -> None:
        """The outcome of a send made with ``ticket``."""
        with self._lock:
            if ticket.probe:
                self._probe_in_flight = False
            elif self._cb.state != STATE_CLOSED:
                return  # only the probe decides while open / half-open
            if ok:
                self._cb.__exit__(None, None, None)  # the package's success path: reset
            else:
                was_open = self._cb.state != STATE_CLOSED
                error = DeliveryFailure("delivery attempt failed")
                self._cb.__exit__(DeliveryFailure, error, None)
                if self._cb.state == STATE_OPEN and (not was_open or ticket.probe):
                    self._opened_at = utcnow()
            change = self._changed()
        self._notify(change)
