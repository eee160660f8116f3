"""Index reservation_mirror (reservation_id, version, deleted): reconciliation's digests and manifests.

It covers the whole read (ids, versions, tombstone flags), so a digest of an id range reads
only this narrow index and never the mirrored reservation data.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index("reservation_mirror", "reservation_id", "version", "deleted")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("reservation_mirror", "reservation_id", "version", "deleted")
