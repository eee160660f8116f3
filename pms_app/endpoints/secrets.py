"""Signing secrets of endpoints: generated in the Standard Webhooks form, shown once, rotated
with an overlap during which the old and the new one both sign."""

from __future__ import annotations

import base64
import datetime as dt
import secrets as random

from core.db import iso, utcnow

from .models import EndpointSecret

PREFIX_LENGTH = 8
KEY_BYTES = 32


def generate() -> str:
    """``whsec_`` and the base64 of 32 random key bytes."""
    return "whsec_" + base64.b64encode(random.token_bytes(KEY_BYTES)).decode("ascii")


def to_api(secret: EndpointSecret) -> dict:
    """What anyone may see of a secret after the answer that created it: its first 8 characters."""
    return {
        "id": secret.id,
        "prefix": secret.secret[:PREFIX_LENGTH],
        "created_at": iso(secret.created_at),
        "expires_at": iso(secret.expires_at),
    }


def valid(endpoint_id: int, now: dt.datetime | None = None) -> list[EndpointSecret]:
    return valid_of([endpoint_id], now)[endpoint_id]


def valid_of(endpoint_ids: list[int], now: dt.datetime | None = None) -> dict[int, list[EndpointSecret]]:
    """The unexpired secrets of each endpoint, oldest first, in one query."""
    now = now or utcnow()
    found: dict[int, list[EndpointSecret]] = {endpoint_id: [] for endpoint_id in endpoint_ids}
    if endpoint_ids:
        for secret in (
            EndpointSecret.select()
            .where(
                EndpointSecret.endpoint.in_(endpoint_ids)
                & (EndpointSecret.expires_at.is_null() | (EndpointSecret.expires_at > now))
            )
            .order_by(EndpointSecret.id)
        ):
            found[secret.endpoint_id].append(secret)
    return found


def add(endpoint_id: int, secret: str, now: dt.datetime) -> EndpointSecret:
    return EndpointSecret.create(endpoint=endpoint_id, secret=secret, created_at=now)


def rotate(endpoint_id: int, overlap_seconds: int, new_secret: str | None = None) -> str:
    """A new secret; the current ones stay valid ``overlap_seconds`` more (never longer than they
    already were); expired ones are removed. Returns the new secret."""
    now = utcnow()
    until = now + dt.timedelta(seconds=overlap_seconds)
    (
        EndpointSecret.update(expires_at=until)
        .where(
            (EndpointSecret.endpoint == endpoint_id)
            & (EndpointSecret.expires_at.is_null() | (EndpointSecret.expires_at > until))
        )
        .execute()
    )
    EndpointSecret.delete().where(
        (EndpointSecret.endpoint == endpoint_id) & (EndpointSecret.expires_at <= now)
    ).execute()
    secret = new_secret or generate()
    add(endpoint_id, secret, now)
    return secret
