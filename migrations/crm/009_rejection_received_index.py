"""Index rejection (received_at): the counts of the last hour's rejections by reason and address
read only that hour's rows, even after a flood of forged requests."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index("rejection", "received_at")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("rejection", "received_at")
