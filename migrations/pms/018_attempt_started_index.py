"""Index delivery_attempt (started_at): the last hour's attempts of every endpoint.

The dashboard reads every endpoint's success rate and latency over a recent window each
second; with this index that read touches only the window's attempts, however many older
attempts the retention keeps.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index("delivery_attempt", "started_at")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("delivery_attempt", "started_at")
