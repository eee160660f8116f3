"""The sync_lease table: which process may reconcile now, and when the schedule is next due."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class SyncLease(pw.Model):
        name = pw.CharField(max_length=32, primary_key=True)
        holder = pw.CharField(max_length=64, null=True)
        lease_until = UtcDateTimeField(null=True)
        next_due_at = UtcDateTimeField(null=True)

        class Meta:
            table_name = "sync_lease"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("sync_lease")
