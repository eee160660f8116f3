"""CRM audit log of received webhook events, unique on webhook_id."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, JSONTextField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Event(pw.Model):
        id = IdField()
        webhook_id = pw.CharField(max_length=255, unique=True)
        type = pw.CharField(max_length=64)
        status = pw.CharField(max_length=16)
        entity_id = pw.BigIntegerField(null=True)
        entity_version = pw.IntegerField(null=True)
        guest_id = pw.BigIntegerField(null=True, index=True)
        occurred_at = UtcDateTimeField(null=True)
        received_at = UtcDateTimeField()
        payload = JSONTextField(null=True)

        class Meta:
            table_name = "event"
            indexes = (
                (("type", "id"), False),
                (("status", "id"), False),
                (("entity_id", "id"), False),
            )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("event")
