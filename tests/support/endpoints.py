"""Endpoints written straight into the test database, as the endpoints API would store them."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from core.db import Store, utcnow
from pms_app.endpoints.models import Endpoint, EndpointSecret

# The fields of an endpoint as the API and the command line show it (the secret only once, apart).
ENDPOINT_KEYS = {
    "id",
    "name",
    "url",
    "description",
    "event_types",
    "enabled",
    "disabled_reason",
    "disabled_at",
    "retry_schedule",
    "timeout_seconds",
    "rate_limit_per_second",
    "max_in_flight",
    "breaker",
    "secrets",
    "created_at",
    "updated_at",
}


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of random key bytes."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def add_endpoint(
    store: Store,
    name: str,
    url: str,
    event_types: Sequence[str] = (),
    enabled: bool = True,
    secrets: Sequence[str] = (),
    **policy,
) -> int:
    def write() -> int:
        now = utcnow()
        endpoint = Endpoint.create(
            name=name,
            url=url,
            event_types=list(event_types),
            enabled=enabled,
            disabled_reason=None if enabled else "manual",
            created_at=now,
            updated_at=now,
            **policy,
        )
        for secret in secrets or (new_secret(),):
            EndpointSecret.create(endpoint=endpoint.id, secret=secret, created_at=now)
        return endpoint.id

    return store.call(write)
