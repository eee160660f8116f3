"""Host name resolution for delivery: the system resolver behind a short cache.

The sender resolves a webhook host itself (instead of letting libcurl do it) so that it can
check every address before connecting and then pin the connection to a checked one. Answers
are kept for ``ttl`` seconds so a busy worker does not ask the system resolver once per event;
the addresses are checked again on every attempt whatever the cache holds. Failures are not
cached: the next attempt asks again.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable

from .url_safety import IPAddress

DEFAULT_TTL = 5.0


def system_resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address ``host`` resolves to for a TCP connection, in the system's preferred order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: dict[IPAddress, None] = {}
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            seen[ipaddress.ip_address(sockaddr[0])] = None
    return tuple(seen)


class CachingResolver:
    """``resolve(host, port)`` answered from a cache of at most ``ttl`` seconds (thread-safe)."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        resolve: Callable[[str, int], tuple[IPAddress, ...]] = system_resolve,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl = ttl
        self._resolve = resolve
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], tuple[float, tuple[IPAddress, ...]]] = {}

    def __call__(self, host: str, port: int) -> tuple[IPAddress, ...]:
        key = (host, port)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        addresses = tuple(self._resolve(host, port))
        with self._lock:
            self._cache[key] = (now + self.ttl, addresses)
        return addresses
