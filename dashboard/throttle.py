"""Throttling of failed sign-ins: growing delays per client address and per user name.

Each address and each user name gets a few free failures (``free_per_address``,
``free_per_user``); once it has had that many in a row, each failure makes that address (or
name) wait before its next try: 1 s, then 2 s, 4 s ... up to ``max_delay``.
The caller counts an attempt as failed *before* checking the password (checking takes time,
and parallel tries must not all pass the gate while the first is being checked), and calls
``succeeded`` when it turns out right: that clears the name's counter and takes the attempt
back from the address's count (earlier failures from the address stay, so knowing one password
does not buy more guesses at others). A counter with no failure for ``forget_after`` seconds is
forgotten. There is no global lockout: failures from one address or against one name never
stop anyone else from signing in. Attempts refused while waiting are not counted, so a client
that keeps hammering stays at the delay it earned. At most ``max_tracked`` counters are kept
(the least recently failed are dropped first), so memory stays bounded whatever is sent.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from collections.abc import Callable


@dataclass
class _Counter:
    failures: int = 0
    last_failure: float = 0.0
    blocked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        free_per_address: int = 10,
        free_per_user: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        forget_after: float = 900.0,
        max_tracked: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.free = {"address": free_per_address, "user": free_per_user}
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_tracked = max_tracked
        self.clock = clock
        self._counters: OrderedDict[tuple[str, str], _Counter] = OrderedDict()

    @staticmethod
    def _keys(address: str | None, user: str) -> list[tuple[str, str]]:
        # User names are bounded so a flood of long names cannot grow memory per counter.
        return [("address", address or "unknown"), ("user", user[:64])]

    def _live(self, key: tuple[str, str], now: float) -> _Counter | None:
        counter = self._counters.get(key)
        if counter is not None and self._forgettable(counter, now):
            del self._counters[key]
            return None
        return counter

    def _forgettable(self, counter: _Counter, now: float) -> bool:
        return now - counter.last_failure > self.forget_after and counter.blocked_until <= now

    def retry_after(self, address: str | None, user: str) -> int | None:
        """Whole seconds to wait before this address may try this name again, or ``None``."""
        now = self.clock()
        waits = [c.blocked_until - now for k in self._keys(address, user) if (c := self._live(k, now))]
        wait = max(waits, default=0.0)
        return math.ceil(wait) if wait > 0 else None

    def delay_after(self, failures: int, free: int) -> float:
        """The wait after the ``failures``-th failure in a row: none before ``free`` of them."""
        extra = failures - free
        if extra < 0:
            return 0.0
        return min(self.max_delay, self.base_delay * 2 ** min(extra, 62))

    def failed(self, address: str | None, user: str) -> None:
        now = self.clock()
        for key in self._keys(address, user):
            counter = self._live(key, now) or _Counter()
            counter.failures += 1
            counter.last_failure = now
            counter.blocked_until = now + self.delay_after(counter.failures, self.free[key[0]])
            self._counters[key] = counter
            self._counters.move_to_end(key)
        if len(self._counters) > self.max_tracked:
            self._prune(now)

    def succeeded(self, address: str | None, user: str) -> None:
        address_key, user_key = self._keys(address, user)
        self._counters.pop(user_key, None)
        counter = self._counters.get(address_key)
        if counter is not None:
            counter.failures -= 1
            if counter.failures <= 0:
                del self._counters[address_key]
            else:
                counter.blocked_until = counter.last_failure + self.delay_after(counter.failures, self.free["address"])

    def _prune(self, now: float) -> None:
        for key in [k for k, c in self._counters.items() if self._forgettable(c, now)]:
            del self._counters[key]
        while len(self._counters) > self.max_tracked:
            self._counters.popitem(last=False)

    def __len__(self) -> int:
        return len(self._counters)
