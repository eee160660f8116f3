"""The notification table: operational events for ops (endpoint failing, recovered, disabled;
a delivery that gave up), newest first, with the state of their own push to OPS_WEBHOOK_URL."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, JSONTextField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Notification(pw.Model):
        id = IdField()
        type = pw.CharField(max_length=32)
        endpoint_id = pw.BigIntegerField(null=True)
        data = JSONTextField()
        created_at = UtcDateTimeField()
        ops_status = pw.CharField(max_length=16, default="pending")
        ops_attempts = pw.IntegerField(default=0)
        ops_next_at = UtcDateTimeField()

        class Meta:
            table_name = "notification"
            indexes = (
                (("type", "id"), False),
                (("endpoint_id", "type", "id"), False),
                (("ops_status", "ops_next_at"), False),
            )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("notification")
