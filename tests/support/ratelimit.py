"""A fake clock for the API rate limiter, so tests move time instead of sleeping.

The ``limits`` in-memory storage reads ``time.time()`` through its module's ``time`` name;
``freeze_rate_limit_clock`` points that one name (and the app's limiter) at a ``FakeClock``
for the duration of one test, through pytest's ``monkeypatch`` so it is undone afterwards.
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
    monkeypatch.setattr(app.settings["rate_limiter"], "clock", clock.time)
    return clock
