"""The tombstone table: id, version and time of every deleted guest and reservation (kept for good)."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Tombstone(pw.Model):
        kind = pw.CharField(max_length=16)
        entity_id = pw.BigIntegerField()
        version = pw.IntegerField()
        deleted_at = UtcDateTimeField()
        guest_id = pw.BigIntegerField(null=True)

        class Meta:
            table_name = "tombstone"
            primary_key = pw.CompositeKey("kind", "entity_id")
            indexes = ((("kind", "entity_id", "version"), False),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("tombstone")
