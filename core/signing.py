"""Standard Webhooks signing and verification over raw body bytes (docs/webhooks.md).

The signature is ``base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))``; the
``webhook-signature`` header carries one ``v1,<sig>`` entry per signing secret, separated by
spaces. A secret starting ``whsec_`` is the base64 of the key; any other secret is its UTF-8
bytes. The PMS signs and the CRM verifies with this one module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SIGNATURE_VERSION = "v1"
_TIMESTAMP = re.compile(r"^[+-]?[0-9]{1,20}$")


class VerificationError(Exception):
    """Base of the narrow errors ``verify`` raises; ``code`` is the API error code."""

    code = "invalid_signature"


class MissingHeaderError(VerificationError):
    code = "missing_header"


class TimestampOutOfToleranceError(VerificationError):
    code = "timestamp_out_of_tolerance"


class InvalidSignatureError(VerificationError):
    code = "invalid_signature"


def secret_to_key(secret: str) -> bytes:
    """Key bytes of one configured secret (``whsec_`` = base64, else UTF-8)."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a whsec_ secret must be valid base64") from None
    return secret.encode("utf-8")


def keys_from_secrets(secrets: Iterable[str]) -> tuple[bytes, ...]:
    keys = tuple(secret_to_key(s) for s in secrets if s)
    if not keys:
        raise ValueError("at least one webhook secret is required")
    return keys


def compute_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The base64 HMAC-SHA256 of ``id.timestamp.body`` (no ``v1,`` prefix)."""
    to_sign = msg_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    return base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode("ascii")


def sign(keys: Iterable[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: one ``v1,...`` entry per key."""
    return " ".join(f"{SIGNATURE_VERSION},{compute_signature(k, msg_id, timestamp, body)}" for k in keys)


def signed_headers(keys: Iterable[bytes], msg_id: str, body: bytes, timestamp: int | None = None) -> dict:
    """The three ``webhook-*`` headers plus Content-Type for one outgoing request."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(keys, msg_id, timestamp, body),
    }


@dataclass(frozen=True)
class VerifiedHeaders:
    msg_id: str
    timestamp: int


def read_headers(headers: Mapping[str, str]) -> VerifiedHeaders:
    """The id and integer timestamp, or ``MissingHeaderError``."""
    msg_id = (headers.get("webhook-id") or "").strip()
    raw_ts = (headers.get("webhook-timestamp") or "").strip()
    signature = (headers.get("webhook-signature") or "").strip()
    missing = [
        name
        for name, value in (("webhook-id", msg_id), ("webhook-timestamp", raw_ts), ("webhook-signature", signature))
        if not value
    ]
    if missing:
        raise MissingHeaderError(f"missing header(s): {', '.join(missing)}")
    if not _TIMESTAMP.match(raw_ts):
        raise MissingHeaderError("webhook-timestamp must be an integer number of seconds")
    # Any integer is well-formed; a far-off one fails the tolerance check that follows.
    return VerifiedHeaders(msg_id, int(raw_ts))


def check_timestamp(timestamp: int, tolerance_seconds: int, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        raise TimestampOutOfToleranceError(
            f"webhook-timestamp is more than {tolerance_seconds}s away from the receiver's clock"
        )


def check_signature(keys: Iterable[bytes], msg_id: str, timestamp: int, body: bytes, header: str) -> None:
    """Pass when any ``v1`` entry matches any key; malformed entries are simply non-matching."""
    given: list[bytes] = []
    for entry in header.split():
        version, sep, value = entry.partition(",")
        if not sep or version != SIGNATURE_VERSION or "," in value or not value:
            continue
        try:
            given.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    if given:
        for key in keys:
            expected = base64.b64decode(compute_signature(key, msg_id, timestamp, body))
            # Compare against every entry so the time taken does not depend on which matched.
            if any([hmac.compare_digest(expected, sig) for sig in given]):
                return
    raise InvalidSignatureError("no signature matches an accepted secret")


def verify(
    keys: Iterable[bytes], headers: Mapping[str, str], body: bytes, tolerance_seconds: int, now: float | None = None
) -> VerifiedHeaders:
    """Headers present, timestamp in tolerance, then a matching signature (the receiver's check order)."""
    meta = read_headers(headers)
    check_timestamp(meta.timestamp, tolerance_seconds, now)
    check_signature(keys, meta.msg_id, meta.timestamp, body, headers.get("webhook-signature", ""))
    return meta
