"""One signed HTTP attempt at delivering an event, and how its outcome is judged.

A ``Sender`` is one destination: its URL, its signing keys, its time limit and the networks it
may not reach. Each attempt checks the URL and every address its host resolves to
(``url_safety``), then POSTs over ``transport.CurlTransport`` pinned to a checked address, within
one deadline for the whole attempt, reading at most 64 KiB of the answer. A refused URL or
address is a failed attempt that counts against the endpoint (like a connection error), made
without connecting anywhere. Redirects are not followed: a 3xx is a failed attempt, like any
non-2xx, a timeout or a connection error. See docs/delivery.md.

Each attempt carries a W3C ``traceparent``: a new span of the trace of the request that made the
change (``attempt_trace``), so the receiver's log and spans join that trace.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.config import redact_url
from core.db import utcnow
from core.jsonio import dumps
from core.signing import signed_headers
from core.tracing import TraceContext, new_span_id, new_trace, parse_traceparent

from .claims import RESPONSE_BODY_LIMIT, AttemptRecord, Claim
from .resolver import CachingResolver
from .retry import RETRY_AFTER_STATUSES, parse_retry_after
from .transport import CurlTransport, Response
from .url_safety import CheckedHost, IPNetwork, Resolver, UnsafeUrl

USER_AGENT = "guestsync-pms-delivery/1"


def envelope_body(claim: Claim) -> bytes:
    """The request body: ``{"type", "idempotency_key", "timestamp" (ms of the change), "payload"}``."""
    occurred = claim.occurred_at.replace(tzinfo=dt.UTC)
    envelope = {
        "type": claim.type,
        "idempotency_key": claim.id,
        "timestamp": int(occurred.timestamp() * 1000),
        "payload": claim.payload,
    }
    return dumps(envelope).encode("utf-8")


def attempt_trace(claim: Claim) -> TraceContext:
    """The context of one attempt: a new span of the event's trace. An event made outside a
    request has none; its attempts then share a trace named after its webhook-id (a UUID's 32
    hex digits), so they can still be found together."""
    parent = parse_traceparent(claim.traceparent)
    if parent is not None:
        return parent.child()
    try:
        return TraceContext(uuid.UUID(claim.id).hex, new_span_id())
    except ValueError:
        return new_trace()


@dataclass(frozen=True)
class SendResult:
    record: AttemptRecord
    retry_after: float | None
    trips_breaker: bool  # the endpoint looks unhealthy (not: it refused this one event)


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
    """Signed attempts to one URL. ``denied`` adds networks to refuse; ``resolver`` and
    ``transport`` may be shared between senders (or replaced in tests)."""

    def __init__(
        self,
        url: str,
        keys: Sequence[bytes],
        timeout: float,
        *,
        denied: Iterable[IPNetwork] = (),
        resolver: Resolver | None = None,
        transport: CurlTransport | None = None,
    ):
        self.url = url
        self.keys = tuple(keys)
        self.timeout = timeout
        self.denied = tuple(denied)
        self.resolve = resolver or CachingResolver()
        self._owns_transport = transport is None
        self.transport = transport or CurlTransport(user_agent=USER_AGENT)
        self.checked_host = CheckedHost(url, self.denied, self.resolve)
        # What each attempt records about its request (computed once, not per attempt).
        self.shown_url = redact_url(url)

    def send(self, claim: Claim, trace: TraceContext | None = None) -> SendResult:
        """One attempt; ``trace`` is its span's context (by default a new one, ``attempt_trace``)."""
        started_at = utcnow()
        t0 = time.monotonic()
        target = self.checked_host.target
        try:
            addresses = self.checked_host.addresses()
        except UnsafeUrl as exc:
            return self._failure(started_at, t0, str(exc))
        except OSError as exc:
            return self._failure(
                started_at, t0, f"ConnectionError: cannot resolve {target.host}: {exc.strerror or exc}"[:500]
            )
        body = envelope_body(claim)
        headers = [f"{name}: {value}" for name, value in signed_headers(self.keys, claim.id, body).items()]
        headers.append(f"traceparent: {(trace or attempt_trace(claim)).traceparent}")
        response = self.transport.post(self.url, body, headers, addresses, target.port, t0 + self.timeout)
        return self._judge(started_at, t0, response)

    def _judge(self, started_at: dt.datetime, t0: float, response: Response) -> SendResult:
        if response.timed_out:
            error = f"timed out after {self.timeout:g}s"
            if response.partial_status is not None:
                error += f" (HTTP {response.partial_status} came, the rest of the answer did not)"
            return self._failure(started_at, t0, error)
        if response.error is not None:
            return self._failure(started_at, t0, response.error)
        duration_ms = int((time.monotonic() - t0) * 1000)
        code = response.status
        ok = 200 <= code < 300
        error = None if ok else f"HTTP {code}"
        if 300 <= code < 400:
            error = f"HTTP {code} redirect (not followed) to {response.location or '?'}"[:500]
        retry_after = None
        if code in RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(response.retry_after)
        record = AttemptRecord(
            started_at, code, duration_ms, error, _cut(response.body), ok, self.shown_url, len(self.keys)
        )
        return SendResult(record, retry_after, trips_breaker(code))

    def _failure(self, started_at: dt.datetime, t0: float, error: str) -> SendResult:
        duration_ms = int((time.monotonic() - t0) * 1000)
        return SendResult(
            AttemptRecord(started_at, None, duration_ms, error, None, False, self.shown_url, len(self.keys)), None, True
        )

    def close(self) -> None:
        if self._owns_transport:
            self.transport.close()
