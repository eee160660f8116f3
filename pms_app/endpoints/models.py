"""The ``endpoint`` and ``endpoint_secret`` tables.

A null policy column (``retry_schedule``, ``timeout_seconds``, ``max_in_flight``, the breaker's
numbers) means "the service default" from the configuration, so changing a default reaches
every endpoint that never set its own. ``from_config`` marks endpoint 1 while it was never
edited through the API: it follows ``CRM_WEBHOOK_URL`` and ``CRM_WEBHOOK_SECRET`` at start.
"""

from __future__ import annotations

import peewee as pw

from core.db import IdField, JSONTextField, UtcDateTimeField, utcnow

from ..models import BaseModel


class Endpoint(BaseModel):
    id = IdField()
    name = pw.CharField(max_length=64, unique=True)
    url = pw.CharField(max_length=2000)
    description = pw.TextField(null=True)
    event_types = JSONTextField(default=list)  # types or globs; empty: every type
    enabled = pw.BooleanField(default=True)
    disabled_reason = pw.CharField(max_length=32, null=True)
    disabled_at = UtcDateTimeField(null=True)
    retry_schedule = JSONTextField(null=True)
    timeout_seconds = pw.FloatField(null=True)
    rate_limit_per_second = pw.FloatField(null=True)
    max_in_flight = pw.IntegerField(null=True)
    breaker_failure_threshold = pw.IntegerField(null=True)
    breaker_recovery_seconds = pw.FloatField(null=True)
    from_config = pw.BooleanField(default=False)
    last_success_at = UtcDateTimeField(null=True)
    last_failure_at = UtcDateTimeField(null=True)
    # When attempts began failing with no success since (null while it succeeds).
    failing_since = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "endpoint"


class EndpointRate(BaseModel):
    """The token bucket of a rate-limited endpoint, shared by every worker and process."""

    endpoint_id = pw.BigIntegerField(primary_key=True)
    tokens = pw.FloatField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "endpoint_rate"


class EndpointSecret(BaseModel):
    """One signing secret of an endpoint; every unexpired one signs each attempt."""

    id = IdField()
    endpoint = pw.ForeignKeyField(
        Endpoint, backref="secrets", column_name="endpoint_id", on_delete="CASCADE", index=True
    )
    secret = pw.TextField()
    created_at = UtcDateTimeField(default=utcnow)
    expires_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "endpoint_secret"
