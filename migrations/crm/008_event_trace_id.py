"""event.trace_id: the W3C trace id each webhook came with, so an audit entry leads to the
sender's log lines and spans of the same trace."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("event", trace_id=pw.CharField(max_length=32, null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("event", "trace_id")
