"""outbox_event keeps the event alone: its delivery columns moved to ``delivery`` (migration 014).

Rolling back puts them back and fills them from each event's delivery to endpoint 1, so part
one's code finds the CRM's state where it left it; an event that never had a delivery to
endpoint 1 (its filter did not match, or it was deleted) comes back as ``delivered``, since
part one has nowhere else to send it.
"""

import peewee as pw
from peewee_migrate import Migrator

from core.db import UtcDateTimeField, is_mysql

DELIVERY_COLUMNS = (
    "status",
    "attempt_count",
    "next_attempt_at",
    "claimed_by",
    "lease_until",
    "last_error",
    "delivered_at",
    "attempts_since_replay",
    "next_trigger",
    "replayed_by",
)


def _from_crm_delivery(column: str, otherwise: str) -> str:
    return (
        f"UPDATE outbox_event SET {column} = COALESCE((SELECT d.{column} FROM delivery d "
        f"WHERE d.event_seq = outbox_event.seq AND d.endpoint_id = 1), {otherwise})"
    )


def _drop_delivery_indexes(database: pw.Database) -> None:
    """Every index of outbox_event over a delivery column, whatever it was named (001 named its
    indexes after the model, 003 after the table)."""
    for index in database.get_indexes("outbox_event"):
        if set(index.columns) & set(DELIVERY_COLUMNS):
            on_table = " ON outbox_event" if is_mysql(database) else ""
            database.execute_sql(f"DROP INDEX {index.name}{on_table}")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # SQLite cannot drop an indexed column: the indexes go first.
    migrator.run(_drop_delivery_indexes, database)
    migrator.remove_fields("outbox_event", *DELIVERY_COLUMNS)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        "outbox_event",
        allow_not_null=True,
        status=pw.CharField(max_length=16, default="pending", constraints=[pw.SQL("DEFAULT 'pending'")]),
        attempt_count=pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")]),
        attempts_since_replay=pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")]),
        next_trigger=pw.CharField(max_length=16, default="scheduled", constraints=[pw.SQL("DEFAULT 'scheduled'")]),
    )
    migrator.add_fields(
        "outbox_event",
        next_attempt_at=UtcDateTimeField(null=True),
        claimed_by=pw.CharField(max_length=64, null=True),
        lease_until=UtcDateTimeField(null=True),
        last_error=pw.TextField(null=True),
        delivered_at=UtcDateTimeField(null=True),
        replayed_by=pw.CharField(max_length=64, null=True),
    )
    migrator.sql(_from_crm_delivery("status", "'delivered'"))
    migrator.sql(_from_crm_delivery("delivered_at", "NULL"))
    migrator.sql(
        "UPDATE outbox_event SET delivered_at = created_at WHERE status = 'delivered' AND delivered_at IS NULL"
    )
    for column in ("attempt_count", "attempts_since_replay"):
        migrator.sql(_from_crm_delivery(column, "0"))
    migrator.sql(_from_crm_delivery("next_trigger", "'scheduled'"))
    migrator.sql(_from_crm_delivery("next_attempt_at", "outbox_event.created_at"))
    for column in ("claimed_by", "lease_until", "last_error", "replayed_by"):
        migrator.sql(_from_crm_delivery(column, "NULL"))
    migrator.add_index("outbox_event", "status", "next_attempt_at", "seq")
    migrator.add_index("outbox_event", "status", "delivered_at")
    migrator.add_index("outbox_event", "entity_id", "status", "seq")
