"""delivery_attempt gains the request each attempt made: the URL it went to (password masked)
and how many signatures it carried, so an attempt sent before an endpoint's URL was corrected, or
during a secret rotation, shows what it really sent."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("delivery_attempt", target_url=pw.CharField(max_length=2000, null=True))
    migrator.add_fields("delivery_attempt", signatures=pw.SmallIntegerField(null=True))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("delivery_attempt", "target_url", "signatures")
