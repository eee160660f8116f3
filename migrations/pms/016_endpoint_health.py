"""endpoint.failing_since, and endpoint_rate: what per-endpoint policy needs across workers.

``failing_since``: when attempts to the endpoint started failing with no success since (null
while it succeeds); an endpoint failing for ``ENDPOINT_DISABLE_AFTER_HOURS`` is disabled.
``endpoint_rate``: one token bucket per rate-limited endpoint, shared by every worker and
process: a claim takes tokens from it in the claim's own transaction.
"""

import peewee as pw
from peewee_migrate import Migrator

from core.db import UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("endpoint", failing_since=UtcDateTimeField(null=True))

    @migrator.create_model
    class EndpointRate(pw.Model):
        endpoint_id = pw.BigIntegerField(primary_key=True)
        tokens = pw.FloatField()
        updated_at = UtcDateTimeField()

        class Meta:
            table_name = "endpoint_rate"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("endpoint_rate")
    migrator.remove_fields("endpoint", "failing_since")
