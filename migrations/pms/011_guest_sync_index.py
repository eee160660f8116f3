"""Index guest (id, version): reconciliation reads ids and versions of a range from it alone.

The clustered rows hold every personal field; this narrow index lets a digest of 100,000
guests read a few megabytes instead of the whole table.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index("guest", "id", "version")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("guest", "id", "version")
