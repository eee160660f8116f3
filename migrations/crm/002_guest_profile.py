"""CRM guest profiles: identity, tombstone and stored stats per guest id."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import JSONTextField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class GuestProfile(pw.Model):
        guest_id = pw.BigIntegerField(primary_key=True)
        email = pw.CharField(max_length=254, null=True)
        email_key = pw.CharField(max_length=254, null=True, index=True)
        name = pw.CharField(max_length=200, null=True)
        phone = pw.CharField(max_length=32, null=True)
        date_of_birth = pw.DateField(null=True)
        country = pw.CharField(max_length=64, null=True)
        version = pw.IntegerField(null=True)
        deleted = pw.BooleanField(default=False)
        listed = pw.BooleanField(default=False)
        total_reservations = pw.IntegerField(default=0)
        cancelled_reservations = pw.IntegerField(default=0)
        total_nights = pw.IntegerField(default=0)
        lifetime_value = JSONTextField(null=True)
        first_check_in = pw.DateField(null=True)
        last_check_out = pw.DateField(null=True)
        tier = pw.CharField(max_length=16, default="new")
        created_at = UtcDateTimeField()
        updated_at = UtcDateTimeField()

        class Meta:
            table_name = "guest_profile"
            indexes = (
                (("listed", "guest_id"), False),
                (("tier", "listed", "guest_id"), False),
            )


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("guest_profile")
