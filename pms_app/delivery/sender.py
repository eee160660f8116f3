"""One signed HTTP attempt at delivering an event (SPEC s5), and how its outcome is judged.

Each sending thread keeps its own ``requests.Session`` (keep-alive to the CRM). Redirects are
not followed: a 3xx is a failed attempt, like any non-2xx, a timeout or a connection error.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Sequence

import requests

from core.db import utcnow
from core.jsonio import dumps
from core.signing import signed_headers

from .claims import RESPONSE_BODY_LIMIT, AttemptRecord, Claim
from .retry import RETRY_AFTER_STATUSES, parse_retry_after

USER_AGENT = "guestsync-pms-delivery/1"


def envelope_body(claim: Claim) -> bytes:
    """The request body: ``{"type", "idempotency_key", "timestamp" (ms of the change), "payload"}``."""
    occurred = claim.occurred_at.replace(tzinfo=dt.timezone.utc)
    envelope = {
        "type": claim.type,
        "idempotency_key": claim.id,
        "timestamp": int(occurred.timestamp() * 1000),
        "payload": claim.payload,
    }
    return dumps(envelope).encode("utf-8")


@dataclass(frozen=True)
class SendResult:
    record: AttemptRecord
    retry_after: float | None
    trips_breaker: bool   # the endpoint looks unhealthy (not: it refused this one event)


def _cut(content: bytes) -> str:
    return content[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")


def trips_breaker(status_code: int | None) -> bool:
    """Transport errors, timeouts, 3xx, 408, 429 and 5xx count against the endpoint.

    Any other 4xx means a healthy receiver refused this particular event: it fails the
    attempt but says nothing bad about the endpoint.
    """
    if status_code is None:
        return True
    if 200 <= status_code < 300:
        return False
    return status_code < 400 or status_code >= 500 or status_code in (408, 429)


class Sender:
    def __init__(self, url: str, keys: Sequence[bytes], timeout: float):
        self.url = url
        self.keys = tuple(keys)
        self.timeout = timeout
        # Proxy settings from the environment, read once: with ``trust_env`` on, requests
        # re-reads the whole environment on every request (a third of a send's CPU time).
        self.proxies = requests.utils.get_environ_proxies(url)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            session.proxies.update(self.proxies)
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
        return session

    def send(self, claim: Claim) -> SendResult:
        body = envelope_body(claim)
        headers = signed_headers(self.keys, claim.id, body)
        started_at = utcnow()
        t0 = time.monotonic()
        try:
            response = self._session().post(self.url, data=body, headers=headers,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            return self._failure(started_at, t0, f"timed out after {self.timeout:g}s")
        except requests.RequestException as exc:
            self._drop_session()
            return self._failure(started_at, t0, f"{type(exc).__name__}: {exc}"[:500])
        duration_ms = int((time.monotonic() - t0) * 1000)
        code = response.status_code
        ok = 200 <= code < 300
        error = None if ok else f"HTTP {code}"
        if 300 <= code < 400:
            error = f"HTTP {code} redirect (not followed) to {response.headers.get('Location', '?')}"[:500]
        retry_after = None
        if code in RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        record = AttemptRecord(started_at, code, duration_ms, error, _cut(response.content), ok)
        return SendResult(record, retry_after, trips_breaker(code))

    def _failure(self, started_at: dt.datetime, t0: float, error: str) -> SendResult:
        duration_ms = int((time.monotonic() - t0) * 1000)
        return SendResult(AttemptRecord(started_at, None, duration_ms, error, None, False), None, True)

    def _drop_session(self) -> None:
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

    def close(self) -> None:
        self._drop_session()
