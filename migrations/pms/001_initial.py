"""PMS schema: guests, reservations, the outbox, delivery attempts and breaker states."""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, JSONTextField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Guest(pw.Model):
        id = IdField()
        email = pw.CharField(max_length=254)
        email_key = pw.CharField(max_length=254, unique=True)
        name = pw.CharField(max_length=200)
        phone = pw.CharField(max_length=32, null=True)
        date_of_birth = pw.DateField(null=True)
        country = pw.CharField(max_length=64, null=True)
        version = pw.IntegerField(default=1)
        created_at = UtcDateTimeField()
        updated_at = UtcDateTimeField()

        class Meta:
            table_name = "guest"

    @migrator.create_model
    class Reservation(pw.Model):
        id = IdField()
        guest = pw.ForeignKeyField(Guest, column_name="guest_id", on_delete="RESTRICT", index=True)
        room_number = pw.CharField(max_length=16, null=True)
        room_type = pw.CharField(max_length=64, null=True)
        check_in = pw.DateField()
        check_out = pw.DateField()
        status = pw.CharField(max_length=16, default="confirmed", index=True)
        total_amount = pw.DecimalField(max_digits=12, decimal_places=2, default=0)
        currency = pw.CharField(max_length=3, default="USD")
        adults = pw.IntegerField(default=1)
        children = pw.IntegerField(default=0)
        notes = pw.TextField(null=True)
        version = pw.IntegerField(default=1)
        created_at = UtcDateTimeField()
        updated_at = UtcDateTimeField()

        class Meta:
            table_name = "reservation"

    @migrator.create_model
    class OutboxEvent(pw.Model):
        seq = IdField()
        id = pw.CharField(max_length=36, unique=True)
        type = pw.CharField(max_length=32, index=True)
        entity_id = pw.BigIntegerField(index=True)
        entity_version = pw.IntegerField()
        payload = JSONTextField()
        occurred_at = UtcDateTimeField()
        status = pw.CharField(max_length=16, default="pending")
        attempt_count = pw.IntegerField(default=0)
        next_attempt_at = UtcDateTimeField()
        claimed_by = pw.CharField(max_length=64, null=True)
        lease_until = UtcDateTimeField(null=True)
        last_error = pw.TextField(null=True)
        created_at = UtcDateTimeField()
        delivered_at = UtcDateTimeField(null=True)

        class Meta:
            table_name = "outbox_event"
            indexes = (
                (("status", "next_attempt_at", "seq"), False),
                (("status", "delivered_at"), False),
            )

    @migrator.create_model
    class DeliveryAttempt(pw.Model):
        id = IdField()
        event_id = pw.CharField(max_length=36, index=True)
        attempt = pw.IntegerField()
        worker_id = pw.CharField(max_length=64, null=True)
        started_at = UtcDateTimeField()
        status_code = pw.IntegerField(null=True)
        duration_ms = pw.IntegerField(null=True)
        error = pw.TextField(null=True)
        response_body = pw.TextField(null=True)

        class Meta:
            table_name = "delivery_attempt"

    @migrator.create_model
    class BreakerState(pw.Model):
        id = IdField()
        worker_id = pw.CharField(max_length=64)
        endpoint = pw.CharField(max_length=512)
        state = pw.CharField(max_length=16, default="closed")
        failure_count = pw.IntegerField(default=0)
        opened_at = UtcDateTimeField(null=True)
        updated_at = UtcDateTimeField()

        class Meta:
            table_name = "breaker_state"
            indexes = ((("worker_id", "endpoint"), True),)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for name in ("breaker_state", "delivery_attempt", "outbox_event", "reservation", "guest"):
        migrator.remove_model(name)
