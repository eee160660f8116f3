"""The breaker_transition table: every state change of every worker's circuit breaker."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class BreakerTransition(pw.Model):
        id = IdField()
        worker_id = pw.CharField(max_length=64)
        endpoint = pw.CharField(max_length=512)
        from_state = pw.CharField(max_length=16)
        to_state = pw.CharField(max_length=16)
        failure_count = pw.IntegerField(default=0)
        at = UtcDateTimeField(index=True)

        class Meta:
            table_name = "breaker_transition"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("breaker_transition")
