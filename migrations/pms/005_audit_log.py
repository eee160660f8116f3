"""The audit_log table: operator actions (replays today, endpoint changes later), newest first.

``operator`` compares exactly on every backend: on MySQL/MariaDB it gets a binary collation
(names cannot end in spaces, so PAD SPACE does not matter), as SQLite compares text already,
so ``?operator=alice`` never lists what ``Alice`` did.
"""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, JSONTextField, UtcDateTimeField, is_mysql


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    exact = "utf8mb4_bin" if is_mysql(database) else None

    @migrator.create_model
    class AuditEntry(pw.Model):
        id = IdField()
        operator = pw.CharField(max_length=64, null=True, collation=exact)
        action = pw.CharField(max_length=64)
        target = pw.CharField(max_length=255, null=True)
        details = JSONTextField(null=True)
        request_id = pw.CharField(max_length=128, null=True)
        at = UtcDateTimeField()

        class Meta:
            table_name = "audit_log"
            indexes = (
                (("operator", "id"), False),
                (("action", "id"), False),
            )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("audit_log")
