"""Index outbox_event (entity_id, status, seq): the claim's per-entity ordering check.

A claim skips an event while an earlier event of its entity is in flight or due. With this
index that check reads only the entity's undelivered entries, however many delivered events
the outbox keeps, so a claim costs the same with a thousand delivered rows or a million.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_index("outbox_event", "entity_id", "status", "seq")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index("outbox_event", "entity_id", "status", "seq")
