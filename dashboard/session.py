"""Who is logged in: the login token check, the session cookie, and throttling of failures.

The session is a Tornado signed cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) whose
signing key is derived from ``DASHBOARD_TOKEN``, so changing the token signs everyone out.
Failed logins are counted per client address; after ``max_failures`` within ``window``
seconds that address is refused for ``lockout`` seconds, whatever it sends. Because a client
address can be spoofed through ``X-Forwarded-For`` when nothing strips it, failures are also
counted for everyone together: past ``max_global_failures`` within ``window`` every login is
refused for ``lockout`` seconds (a guessing attack then costs the attacker more than it costs ops).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Callable

from tornado.web import RequestHandler

SESSION_COOKIE = "gs_session"
SESSION_VALUE = "ops"
SESSION_MAX_AGE_DAYS = 7


def cookie_secret_for(token: str) -> str:
    return hmac.new(token.encode(), b"guestsync-dashboard-session-v1", hashlib.sha256).hexdigest()


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of the whole token (no hint about which part differs)."""
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(),
                               hashlib.sha256(expected.encode()).digest())


def current_user(handler: RequestHandler) -> str | None:
    value = handler.get_signed_cookie(SESSION_COOKIE, max_age_days=SESSION_MAX_AGE_DAYS)
    return SESSION_VALUE if value == SESSION_VALUE.encode() else None


def start_session(handler: RequestHandler) -> None:
    handler.set_signed_cookie(SESSION_COOKIE, SESSION_VALUE, expires_days=None, httponly=True,
                              samesite="Lax", secure=handler.request.protocol == "https")


def end_session(handler: RequestHandler) -> None:
    handler.clear_cookie(SESSION_COOKIE, httponly=True, samesite="Lax",
                         secure=handler.request.protocol == "https")


def safe_next(target: str | None) -> str:
    """A local path to return to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if target.startswith(("/login", "/logout")):
        return "/"
    return target


class LoginThrottle:
    """Counts failed logins per address and refuses an address for a while after too many."""

    EVERYONE = "*"

    def __init__(self, max_failures: int = 5, window: float = 300.0, lockout: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, max_tracked: int = 10_000,
                 max_global_failures: int = 100):
        self.max_failures = max_failures
        self.max_global_failures = max_global_failures
        self.window = window
        self.lockout = lockout
        self.clock = clock
        self.max_tracked = max_tracked
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}

    def retry_after(self, address: str) -> int | None:
        """Seconds this address must wait, or ``None`` when it may try."""
        waits = [w for w in (self._wait(address), self._wait(self.EVERYONE)) if w is not None]
        return max(waits) if waits else None

    def _wait(self, key: str) -> int | None:
        until = self._locked_until.get(key)
        if until is None:
            return None
        remaining = until - self.clock()
        if remaining <= 0:
            del self._locked_until[key]
            return None
        return max(1, int(remaining + 0.999))

    def failed(self, address: str) -> None:
        now = self.clock()
        self._count(address, self.max_failures, now)
        self._count(self.EVERYONE, self.max_global_failures, now)
        if len(self._failures) > self.max_tracked:
            self._prune(now)

    def _count(self, key: str, limit: int, now: float) -> None:
        recent = [t for t in self._failures.get(key, []) if t > now - self.window]
        recent.append(now)
        if len(recent) >= limit:
            self._locked_until[key] = now + self.lockout
            recent = []
        self._failures[key] = recent

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)

    def _prune(self, now: float) -> None:
        for address in [a for a, times in self._failures.items() if not times or times[-1] <= now - self.window]:
            del self._failures[address]
        while len(self._failures) > self.max_tracked:
            self._failures.pop(next(iter(self._failures)))
