"""Index reservation (id, version): reconciliation reads ids and versions of a range from it alone."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index("reservation", "id", "version")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("reservation", "id", "version")
