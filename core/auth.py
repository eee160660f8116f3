"""The API's bearer-token check (``API_TOKEN``), shared by the auth gate and the rate limiter."""

from __future__ import annotations

import hashlib
import hmac

from tornado.httputil import HTTPHeaders


def bearer_token(headers: HTTPHeaders) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    scheme, _, given = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return None
    return given.strip()


def token_accepted(headers: HTTPHeaders, expected: str) -> bool:
    """Whether the request carries ``expected`` as its bearer token (constant-time comparison)."""
    given = bearer_token(headers)
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def token_fingerprint(token: str) -> str:
    """A stable name for a token that cannot be turned back into it (for keys kept in memory)."""
    return hashlib.sha256(b"guestsync-token-fingerprint:" + token.encode()).hexdigest()[:32]
