"""outbox_event.traceparent: the trace context of the request that made the change, sent on
every attempt of its webhook so the receiver's log continues the same trace."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("outbox_event", traceparent=pw.CharField(max_length=55, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("outbox_event", "traceparent")
