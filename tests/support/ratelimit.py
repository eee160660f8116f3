"""A fake clock for the API rate limiter, so tests move time instead of sleeping.

The ``limits`` in-memory storage reads ``time.time()`` through its module's ``time`` name;
``freeze_rate_limit_clock`` points that one name (and the app's limiter) at a ``FakeClock``
for the duration of one test, through pytest's ``monkeypatch`` so it is undone afterwards, and
turns off the storage's background sweep (see below).
"""

from __future__ import annotations

import limits.storage.memory
import pytest
import tornado.web


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def freeze_rate_limit_clock(monkeypatch: pytest.MonkeyPatch, app: tornado.web.Application) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    limiter = app.settings["rate_limiter"]
    monkeypatch.setattr(limiter, "clock", clock.time)
    # The storage also sweeps expired entries from a timer thread 10 ms (real time) after each
    # hit. Under a clock that jumps, that sweep runs at whatever fake instant the test has
    # reached by then: at exactly the end of a window it drops the entry the limiter itself
    # still counts, so the answer would depend on thread timing. Memory clean-up is not what
    # these tests check; without the sweep the limiter's own reads decide, deterministically.
    monkeypatch.setattr(limiter.strategy.storage, "_MemoryStorage__schedule_expiry", lambda: None)
    return clock
