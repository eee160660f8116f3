"""The sync_run table: one row per reconciliation run and kind, listed by GET /sync/runs."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, JSONTextField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class SyncRun(pw.Model):
        id = IdField()
        kind = pw.CharField(max_length=16)
        trigger = pw.CharField(max_length=16)
        dry_run = pw.BooleanField(default=False)
        status = pw.CharField(max_length=16, default="running")
        started_at = UtcDateTimeField()
        finished_at = UtcDateTimeField(null=True)
        compared = pw.BigIntegerField(default=0)
        drifted = pw.BigIntegerField(default=0)
        repaired = pw.BigIntegerField(default=0)
        unrepairable = pw.BigIntegerField(default=0)
        in_flight = pw.BigIntegerField(default=0)
        requests = pw.IntegerField(default=0)
        error = pw.TextField(null=True)
        findings = JSONTextField(null=True)

        class Meta:
            table_name = "sync_run"
            indexes = ((("kind", "status", "id"), False),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("sync_run")
