"""CRM record of rejected webhook requests (reason, remote address, time, webhook-id)."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Rejection(pw.Model):
        id = IdField()
        reason = pw.CharField(max_length=32)
        remote_ip = pw.CharField(max_length=64, null=True)
        received_at = UtcDateTimeField()
        webhook_id = pw.CharField(max_length=255, null=True)

        class Meta:
            table_name = "rejection"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("rejection")
