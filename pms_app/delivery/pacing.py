"""How long the delivery dispatcher waits between turns: the pacing, apart from the work.

The dispatcher's ``run_once()`` does one turn and reports it as a ``Turn``; ``Pacer`` turns that
report into a pause (the split huey makes between ``Worker.loop`` and ``Worker.sleep``), so a
test can drive single turns and check the pacing with a fake clock, each without the other:

* a turn that claimed work: the next turn starts at once (more is likely queued);
* work came within ``busy_window``: look again every ``poll_min`` (the next event is likely
  moments away);
* idle: wait ``poll_min``, then twice as long after each empty turn, up to ``poll_max``;
* every endpoint's breaker open: wait until the first probe may go (within those bounds);
* no free sending slot: ``poll_max`` (a finishing attempt wakes the dispatcher anyway);
* the database failed: ``db_retry``.

``wake()`` (new events committed, an attempt finished, a lease expired, stop) cuts the current
pause short; a wake that arrives during a turn cuts the pause after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerTiming:
    """Pacing of the worker's loops (seconds); tests and benchmarks shorten them."""

    poll_min: float = 0.005
    poll_max: float = 0.1
    busy_window: float = 1.0
    heartbeat: float = 1.0
    retention_every: float = 300.0
    db_retry: float = 0.5
    settle_within: float = 0.05  # longest a finished attempt waits for a turn to record it


@dataclass(frozen=True)
class Turn:
    """What one dispatcher turn did: the facts the pause depends on."""

    claimed: int = 0  # deliveries claimed and handed to the senders
    settled: int = 0  # finished attempts whose outcome was written
    free: int = 0  # sending slots that were free at the start of the turn
    probe_in: float | None = None  # every endpoint held back by its breaker: seconds to the first probe
    failed: bool = False  # the database could not be read or written
    done: bool = False  # stopping, and every claim is settled: the dispatcher leaves

    @property
    def found_work(self) -> bool:
        return self.claimed > 0


class Pacer:
    """Decides the pause after each turn and sleeps it, unless woken."""

    def __init__(self, timing: WorkerTiming, clock: Callable[[], float] = time.monotonic):
        self.timing = timing
        self.clock = clock
        self.idle_wait = timing.poll_min
        self.last_work: float | None = None
        self._wake = threading.Event()

    def wake(self) -> None:
        """Cut the current (or next) pause short; thread-safe."""
        self._wake.set()

    def turn_started(self) -> None:
        """A turn begins: earlier wakes are answered by it; later ones cut the pause after it."""
        self._wake.clear()

    def pause(self, turn: Turn) -> float:
        """Seconds to wait after ``turn`` (updates the idle back-off)."""
        timing = self.timing
        if turn.done:
            return 0.0
        if turn.failed:
            return timing.db_retry
        if turn.found_work:
            self.idle_wait = timing.poll_min
            self.last_work = self.clock()
            return 0.0
        if turn.free <= 0:
            return timing.poll_max
        if turn.probe_in is not None:
            return min(max(turn.probe_in, timing.poll_min), timing.poll_max)
        if self.last_work is not None and self.clock() - self.last_work < timing.busy_window:
            return timing.poll_min
        wait = self.idle_wait
        self.idle_wait = min(self.idle_wait * 2, timing.poll_max)
        return wait

    def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when woken before they passed."""
        if seconds <= 0:
            return self._wake.is_set()
        return self._wake.wait(seconds)
