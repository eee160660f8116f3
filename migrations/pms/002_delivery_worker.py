"""The delivery_worker table: one row per worker process (heartbeat, last success and failure)."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class DeliveryWorker(pw.Model):
        id = IdField()
        worker_id = pw.CharField(max_length=64, unique=True)
        started_at = UtcDateTimeField()
        heartbeat_at = UtcDateTimeField(index=True)
        last_success_at = UtcDateTimeField(null=True)
        last_failure_at = UtcDateTimeField(null=True)
        stopped_at = UtcDateTimeField(null=True)

        class Meta:
            table_name = "delivery_worker"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("delivery_worker")
