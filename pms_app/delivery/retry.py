"""When the next attempt of a failed event happens: the retry schedule, jitter and ``Retry-After``.

After attempt ``n`` fails (``n`` counted from 1 since the event was queued or last replayed),
the next attempt waits ``schedule[n-1]`` seconds plus up to 10% jitter; once the schedule is
exhausted the event is ``failed``. A ``Retry-After`` on a 429 or 503 lengthens the wait to what
the receiver asked for, capped at the longest step of the schedule, and never shortens it.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Sequence

JITTER = 0.10
RETRY_AFTER_STATUSES = (429, 503)


def schedule_of(value, default: Sequence[float]) -> tuple[float, ...]:
    """An endpoint's ``retry_schedule`` as the list of waits: ``None`` is the service default, a
    list is itself, ``{"exponential": {...}}`` waits ``min(initial * factor**(n-1), max)`` before
    retry n, for ``max_retries`` retries."""
    if value is None:
        return tuple(default)
    if isinstance(value, list):
        return tuple(value)
    exp = value["exponential"]
    return tuple(
        min(exp["initial_seconds"] * exp["factor"] ** (n - 1), exp["max_seconds"])
        for n in range(1, int(exp["max_retries"]) + 1)
    )


def next_delay(
    schedule: Sequence[float],
    attempts_made: int,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """Seconds until the next attempt after ``attempts_made`` failures, or ``None``: give up."""
    if attempts_made < 1 or attempts_made > len(schedule):
        return None
    base = float(schedule[attempts_made - 1])
    delay = base * (1.0 + JITTER * rand())
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, float(max(schedule)))
        delay = max(delay, base)
    return delay


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); ``None`` if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value[:9]))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
