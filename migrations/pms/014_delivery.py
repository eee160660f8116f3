"""The delivery table: one row per (event, endpoint), taking over the outbox's delivery state.

Every outbox event becomes a delivery to endpoint 1 with its status, counts, claim, replay mark
and error unchanged (the delivery keeps the event's ``seq`` as its id, so ``?since_id=`` and
cursors stay meaningful); ``last_status_code`` comes from the event's last attempt, and
``guest_id`` from the guest event itself or the reservation's row (null for a reservation
deleted before the upgrade: its guest is no longer known without parsing every payload). Attempts
gain ``delivery_id`` and are attached to those deliveries. Breaker rows are keyed by endpoint id
from now on: the history is the CRM's, and the live rows are rewritten by the next heartbeat.

Rolling back drops the table: deliveries to other endpoints, and their attempts, go with it
(migration 010's rollback has already copied endpoint 1's state back onto the outbox).
"""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, UtcDateTimeField

COPY_OUTBOX = """
INSERT INTO delivery (id, event_seq, event_id, endpoint_id, type, entity_id, entity_version, guest_id, status,
                      attempt_count, attempts_since_replay, next_attempt_at, claimed_by, lease_until,
                      last_error, last_status_code, next_trigger, replayed_by, created_at, delivered_at)
SELECT e.seq, e.seq, e.id, 1, e.type, e.entity_id, e.entity_version,
       CASE WHEN SUBSTR(e.type, 1, 6) = 'guest.' THEN e.entity_id
            ELSE (SELECT r.guest_id FROM reservation r WHERE r.id = e.entity_id) END,
       e.status, e.attempt_count,
       e.attempts_since_replay, e.next_attempt_at, e.claimed_by, e.lease_until, e.last_error,
       (SELECT a.status_code FROM delivery_attempt a WHERE a.event_id = e.id ORDER BY a.id DESC LIMIT 1),
       e.next_trigger, e.replayed_by, e.created_at, e.delivered_at
FROM outbox_event e"""

ATTACH_ATTEMPTS = (
    "UPDATE delivery_attempt SET delivery_id = (SELECT d.id FROM delivery d "
    "WHERE d.event_id = delivery_attempt.event_id AND d.endpoint_id = 1)"
)

DETACH_OTHER_ATTEMPTS = (
    "DELETE FROM delivery_attempt WHERE delivery_id IS NOT NULL AND delivery_id NOT IN "
    "(SELECT id FROM delivery WHERE endpoint_id = 1)"
)


def _crm_breaker_key(database: pw.Database) -> None:
    """Back to part one's key for the CRM's breaker history: its redacted URL."""
    from core.config import redact_url

    row = database.execute_sql("SELECT url FROM endpoint WHERE id = 1").fetchone()
    key = redact_url(row[0]) if row else "crm"
    database.execute_sql(f"UPDATE breaker_transition SET endpoint = {database.param} WHERE endpoint = '1'", (key,))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Delivery(pw.Model):
        id = IdField()
        event_seq = pw.BigIntegerField()
        event_id = pw.CharField(max_length=36)
        endpoint_id = pw.BigIntegerField()
        type = pw.CharField(max_length=32)
        entity_id = pw.BigIntegerField()
        entity_version = pw.IntegerField()
        guest_id = pw.BigIntegerField(null=True)
        status = pw.CharField(max_length=16, default="pending")
        attempt_count = pw.IntegerField(default=0)
        attempts_since_replay = pw.IntegerField(default=0)
        next_attempt_at = UtcDateTimeField()
        claimed_by = pw.CharField(max_length=64, null=True)
        lease_until = UtcDateTimeField(null=True)
        last_error = pw.TextField(null=True)
        last_status_code = pw.IntegerField(null=True)
        next_trigger = pw.CharField(max_length=16, default="scheduled")
        replayed_by = pw.CharField(max_length=64, null=True)
        created_at = UtcDateTimeField()
        delivered_at = UtcDateTimeField(null=True)

        class Meta:
            table_name = "delivery"
            indexes = (
                (("event_id", "endpoint_id"), True),
                (("event_seq",), False),
                (("status", "next_attempt_at", "id"), False),
                (("status", "delivered_at"), False),
                (("endpoint_id", "entity_id", "status", "event_seq"), False),
                (("endpoint_id", "status", "id"), False),
                (("endpoint_id", "guest_id", "id"), False),
            )

    # peewee-migrate indexes an added field of this kind by itself (delivery_attempt_delivery_id).
    migrator.add_fields("delivery_attempt", delivery_id=pw.BigIntegerField(null=True, index=True))
    migrator.sql(COPY_OUTBOX)
    migrator.sql(ATTACH_ATTEMPTS)
    migrator.sql("DELETE FROM breaker_state")
    migrator.sql("UPDATE breaker_transition SET endpoint = '1'")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.run(_crm_breaker_key, database)
    migrator.sql("DELETE FROM breaker_state")
    migrator.sql(DETACH_OTHER_ATTEMPTS)
    migrator.drop_index("delivery_attempt", "delivery_id")
    migrator.remove_fields("delivery_attempt", "delivery_id")
    migrator.remove_model("delivery")
