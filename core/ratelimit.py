"""Per-client rate limiting of the API routes (``API_RATE_LIMIT``), on the ``limits`` library.

A client is its API token when it sends the service's valid ``API_TOKEN`` (kept only as a
fingerprint), else its address as resolved behind trusted proxies (an IPv6 address by its /64). A wrong or unused token
counts against the address, so guessing tokens is limited like any other traffic and a client
cannot mint itself a fresh allowance by sending a new made-up token each time.

Each client has a moving window (exact: at most N requests in any period of the window's
length) held in this process's memory, so N API processes allow N times the limit. A refused
request does not use up the allowance. Every answer of a limited route carries
``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``; a refusal is 429
``rate_limited`` with ``Retry-After``.
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import limits
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from tornado.httputil import HTTPServerRequest

from .auth import bearer_token, token_accepted, token_fingerprint
from .config import ConfigError
from .errors import RateLimitedError

if TYPE_CHECKING:
    from .handlers import BaseHandler

_ZERO_PERIOD = re.compile(r"(/|\bper\b)\s*0+\s*[a-z]", re.IGNORECASE)


def parse_rate_limit(raw: str | None, variable: str = "API_RATE_LIMIT") -> limits.RateLimitItem | None:
    """``100/second``, ``6000/minute``, ``10/5 seconds`` ...; ``None`` when unset."""
    if raw is None or not raw.strip():
        return None
    problem = f"{variable} must be one limit such as 100/second, 6000/minute or 10/5 seconds, got {raw!r}"
    try:
        items = limits.parse_many(raw)
    except ValueError:
        raise ConfigError(problem) from None
    # The library would quietly read "10/0 seconds" as per 1 second and keep only the first of several.
    if len(items) != 1 or _ZERO_PERIOD.search(raw):
        raise ConfigError(problem)
    if items[0].amount < 1:
        raise ConfigError(f"{variable} must allow at least 1 request, got {raw!r}")
    return items[0]


@dataclass(frozen=True)
class Verdict:
    """The outcome of counting one request."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds after which one more request is allowed (>= 1)

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    """Counts requests per client key against one limit, in memory.

    ``clock`` must tell the same time as the ``limits`` storage (both read ``time.time``); it
    turns the library's reset instant into seconds from now.
    """

    def __init__(self, item: limits.RateLimitItem, clock: Callable[[], float] = time.time):
        self.item = item
        self.clock = clock
        self.strategy = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> Verdict:
        allowed = self.strategy.hit(self.item, key)
        reset_at, remaining = self.strategy.get_window_stats(self.item, key)
        # The window frees a place only once the clock is strictly past reset_at.
        reset = max(1, math.floor(reset_at - self.clock()) + 1)
        return Verdict(allowed, self.item.amount, max(0, remaining), reset)


def client_key(request: HTTPServerRequest, api_token: str | None) -> str:
    """Who a request counts against: the valid API token's fingerprint, else the address."""
    if api_token and token_accepted(request.headers, api_token):
        return "token:" + token_fingerprint(bearer_token(request.headers) or "")
    return "address:" + address_key(request.remote_ip or "unknown")


def address_key(remote_ip: str) -> str:
    """An IPv4 address as it is; an IPv6 one as its /64, the block one site is usually given
    (one host could otherwise take a fresh allowance from each of 2^64 addresses)."""
    try:
        address = ipaddress.ip_address(remote_ip)
    except ValueError:
        return remote_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def enforce_rate_limit(handler: BaseHandler) -> None:
    """Count ``handler``'s request; raise 429 when its client is over the limit.

    Exempt handlers set ``rate_limited = False``. The verdict is kept on the handler so that
    ``add_rate_limit_headers`` puts the headers back on an error answer too.
    """
    limiter: RateLimiter | None = handler.settings.get("rate_limiter")
    if limiter is None or not getattr(handler, "rate_limited", False):
        return
    verdict = limiter.hit(client_key(handler.request, handler.settings.get("api_token")))
    handler.rate_limit_verdict = verdict
    add_rate_limit_headers(handler)
    if not verdict.allowed:
        raise RateLimitedError(
            f"too many requests; retry in {verdict.reset} s", headers={"Retry-After": str(verdict.reset)}
        )


def add_rate_limit_headers(handler: BaseHandler) -> None:
    """Set the RateLimit headers of the request's verdict, if it was counted."""
    verdict = handler.rate_limit_verdict
    if verdict is not None:
        for name, value in verdict.headers().items():
            handler.set_header(name, value)
