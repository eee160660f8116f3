"""delivery_attempt: what caused each attempt (``trigger_kind``) and who replayed it.

Every existing attempt was made by the retry schedule, so it becomes "scheduled".
(``trigger`` is a reserved word in MySQL, hence the column's name; the API calls it ``trigger``.)
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "delivery_attempt",
        allow_not_null=True,
        trigger_kind=pw.CharField(max_length=16, default="scheduled", constraints=[pw.SQL("DEFAULT 'scheduled'")]),
    )
    migrator.add_fields("delivery_attempt", replayed_by=pw.CharField(max_length=64, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("delivery_attempt", "trigger_kind", "replayed_by")
