"""Validation of endpoint request bodies, one detail per bad field (errors as the API's 422).

``check_url`` is the one check of an endpoint URL, called at create and update: absolute
``http``/``https`` with a host, at most 2,000 characters, and then the address check (no
link-local or cloud-metadata address, nor one of ``ENDPOINT_DENIED_NETWORKS``), which is the
delivery package's (it checks the address actually connected to, at every attempt too).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlsplit

from core.validation import MISSING, Checker, present

NAME_RE = re.compile(r"^[a-z0-9-]{1,64}$")
EVENT_TYPE_RE = re.compile(r"^[a-z0-9_.*-]{1,64}$")
MAX_URL = 2000
MAX_EVENT_TYPES = 50
MAX_RETRIES = 50
MAX_DELAY_SECONDS = 7 * 86400
SECRET_PREFIX = "whsec_"


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint's URL, or ``None`` when it can."""
    if len(url) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        return "must be an absolute http or https URL"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "must be an absolute http or https URL"
    if any(c.isspace() for c in url):
        return "must not contain spaces"
    del port
    # The address check (link-local, cloud metadata, ENDPOINT_DENIED_NETWORKS) resolves the
    # name, so the handler runs it off the IOLoop: ``delivery.url_safety.address_problem``.
    return None


def check_secret(secret: str) -> str | None:
    """Why ``secret`` cannot sign, or ``None``. A ``whsec_`` one must be base64 key bytes."""
    if len(secret) < 8 or len(secret) > 512:
        return "must be 8 to 512 characters"
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            return "must be whsec_ followed by base64"
        if len(key) < 16:
            return "must hold at least 16 key bytes"
    return None


def _event_types(check: Checker) -> Any:
    value = check.data.get("event_types", MISSING)
    if value is MISSING:
        return MISSING
    if not isinstance(value, list) or len(value) > MAX_EVENT_TYPES:
        check.error("event_types", f"must be a list of at most {MAX_EVENT_TYPES} types or globs")
        return MISSING
    if not all(isinstance(t, str) and EVENT_TYPE_RE.match(t) for t in value):
        check.error("event_types", "each entry must be a type or glob such as guest.* or *.deleted")
        return MISSING
    return list(dict.fromkeys(value))


def _retry_schedule(check: Checker) -> Any:
    value = check.data.get("retry_schedule", MISSING)
    if value is MISSING or value is None:
        return value
    if isinstance(value, list):
        if len(value) > MAX_RETRIES or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_DELAY_SECONDS for v in value
        ):
            check.error("retry_schedule", f"must be at most {MAX_RETRIES} whole seconds, each 0 to {MAX_DELAY_SECONDS}")
            return MISSING
        return value
    if isinstance(value, dict) and set(value) == {"exponential"} and isinstance(value["exponential"], dict):
        sub = Checker(value["exponential"], prefix="retry_schedule.exponential.")
        values = {
            "initial_seconds": sub.number("initial_seconds", minimum=0, maximum=MAX_DELAY_SECONDS),
            "factor": sub.number("factor", minimum=1, maximum=100),
            "max_seconds": sub.number("max_seconds", minimum=0, maximum=MAX_DELAY_SECONDS),
            "max_retries": sub.integer("max_retries", minimum=0, maximum=MAX_RETRIES),
        }
        for name, got in values.items():
            if got is MISSING and name not in value["exponential"]:
                sub.error(name, "is required")
        if sub.ok and values["max_seconds"] < values["initial_seconds"]:
            sub.error("max_seconds", "must be at least initial_seconds")
        check.details.extend(sub.details)
        return {"exponential": values} if sub.ok else MISSING
    check.error("retry_schedule", 'must be a list of seconds, null, or {"exponential": {...}}')
    return MISSING


def _breaker(check: Checker) -> Any:
    value = check.data.get("breaker", MISSING)
    if value is MISSING:
        return MISSING
    if not isinstance(value, dict):
        check.error("breaker", "must be an object {failure_threshold, recovery_seconds}")
        return MISSING
    sub = Checker(value, prefix="breaker.")
    values = present(
        {
            "failure_threshold": sub.integer("failure_threshold", minimum=1, maximum=1000, nullable=True),
            "recovery_seconds": sub.number("recovery_seconds", minimum=0, maximum=86400, nullable=True),
        }
    )
    check.details.extend(sub.details)
    return values if sub.ok else MISSING


def validate_endpoint(data: dict, partial: bool = False) -> dict:
    """The fields of a create (``partial=False``) or of a partial update, cleaned; unknown
    fields are ignored. ``secret`` (create only) is returned when given."""
    check = Checker(data)
    name = check.string("name", required=not partial, min_len=1, max_len=64, nullable=False)
    if isinstance(name, str) and not NAME_RE.match(name):
        check.error("name", "must be 1 to 64 of a-z, 0-9 and -")
        name = MISSING
    # The length is check_url's to judge, with its own message; this bound only stops absurd input.
    url = check.string("url", required=not partial, min_len=1, max_len=100 * MAX_URL, nullable=False)
    if isinstance(url, str):
        problem = check_url(url)
        if problem:
            check.error("url", problem)
            url = MISSING
    values = {
        "name": name,
        "url": url,
        "description": check.string("description", max_len=1000),
        "event_types": _event_types(check),
        "retry_schedule": _retry_schedule(check),
        "timeout_seconds": check.number("timeout_seconds", minimum=0.1, maximum=300, nullable=True),
        "rate_limit_per_second": check.number("rate_limit_per_second", minimum=0.01, maximum=100_000, nullable=True),
        "max_in_flight": check.integer("max_in_flight", minimum=1, maximum=1000, nullable=True),
        "breaker": _breaker(check),
    }
    if not partial:
        enabled = data.get("enabled", MISSING)
        if enabled is not MISSING and not isinstance(enabled, bool):
            check.error("enabled", "must be true or false")
        values["enabled"] = enabled if isinstance(enabled, bool) else MISSING
        secret = check.string("secret", min_len=1, max_len=512, strip=False)
        if isinstance(secret, str):
            problem = check_secret(secret)
            if problem:
                check.error("secret", problem)
                secret = MISSING
        values["secret"] = secret
    check.raise_if_invalid()
    return present(values)


def validate_rotation(data: dict) -> int:
    """``overlap_seconds`` of a rotation: default 86400, 0 means the old secrets stop now."""
    check = Checker(data)
    overlap = check.integer("overlap_seconds", minimum=0, maximum=30 * 86400)
    check.raise_if_invalid()
    return 86400 if overlap is MISSING or overlap is None else overlap
