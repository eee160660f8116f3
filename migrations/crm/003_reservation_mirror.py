"""CRM mirror of reservations (highest version seen, or a tombstone) for profile stats."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ReservationMirror(pw.Model):
        reservation_id = pw.BigIntegerField(primary_key=True)
        guest_id = pw.BigIntegerField(null=True, index=True)
        version = pw.IntegerField(default=0)
        deleted = pw.BooleanField(default=False)
        room_number = pw.CharField(max_length=16, null=True)
        room_type = pw.CharField(max_length=64, null=True)
        check_in = pw.DateField(null=True)
        check_out = pw.DateField(null=True)
        status = pw.CharField(max_length=16, null=True)
        total_amount = pw.DecimalField(max_digits=12, decimal_places=2, null=True)
        currency = pw.CharField(max_length=3, null=True)
        adults = pw.IntegerField(null=True)
        children = pw.IntegerField(null=True)
        updated_at = UtcDateTimeField()

        class Meta:
            table_name = "reservation_mirror"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("reservation_mirror")
