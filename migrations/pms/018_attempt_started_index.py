"""Index delivery_attempt (started_at): an endpoint's last hour of attempts (its success rate and
latency on the endpoints page) is read from this range alone, however long the history is."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index("delivery_attempt", "started_at")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("delivery_attempt", "started_at")
