"""The CRM's tables: the audit log of received events, guest profiles, the mirror of
reservations, and rejected webhook requests.

Every entity the PMS announces has exactly one row here holding the highest version seen:
``GuestProfile`` per guest id and ``ReservationMirror`` per reservation id. A ``*.deleted``
event turns that row into a tombstone (``deleted`` set, data cleared, the delete's version
kept), so a tombstone can never coexist with a live copy and a late event is judged against
one row. Models bind to ``db`` (a ``DatabaseProxy``) initialised by ``make_app``.
"""

from __future__ import annotations

import peewee as pw

# Audit-log statuses of an event (docs/receiver.md) and profile tiers are the
# contract's; the CRM's modules import them from here.
from core.contract import EVENT_STATUSES, IGNORED, NEW, PROCESSED, STALE, TIERS  # noqa: F401 - re-exported
from core.db import IdField, JSONTextField, UtcDateTimeField, utcnow

db = pw.DatabaseProxy()

PERSONAL_FIELDS = ("email", "name", "phone", "date_of_birth")
WEBHOOK_ID_MAX = 255


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False


class Event(BaseModel):
    """One received webhook, unique on its ``webhook_id`` (the idempotency key)."""

    id = IdField()
    webhook_id = pw.CharField(max_length=WEBHOOK_ID_MAX, unique=True)
    type = pw.CharField(max_length=64)
    status = pw.CharField(max_length=16)
    entity_id = pw.BigIntegerField(null=True)
    entity_version = pw.IntegerField(null=True)
    # The guest the event concerns (the entity for guest events, its guest_id for reservation
    # events): what erasure and a profile's event list look up.
    guest_id = pw.BigIntegerField(null=True, index=True)
    occurred_at = UtcDateTimeField(null=True)
    received_at = UtcDateTimeField(default=utcnow)
    payload = JSONTextField(null=True)
    # The W3C trace id the webhook came with (the sender's request that made the change), so
    # an audit entry leads to the sender's log lines of the same trace.
    trace_id = pw.CharField(max_length=32, null=True)

    class Meta:
        table_name = "event"
        indexes = (
            (("type", "id"), False),
            (("status", "id"), False),
            (("entity_id", "id"), False),
        )


class GuestProfile(BaseModel):
    """A guest's identity (from guest events) and stats (from the reservation mirror).

    ``version`` is NULL while only reservations of the guest have arrived. ``listed`` is
    whether the profile is visible: not erased, and known by identity or by a live reservation.
    Stats that depend on today's date are not stored; they are computed when read.
    """

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
    tier = pw.CharField(max_length=16, default=NEW)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "guest_profile"
        indexes = (
            (("listed", "guest_id"), False),
            (("tier", "listed", "guest_id"), False),
            (("guest_id", "version", "deleted"), False),  # reconciliation (migration 006)
        )


class ReservationMirror(BaseModel):
    """The CRM's copy of one reservation at its highest version seen (or its tombstone)."""

    reservation_id = pw.BigIntegerField(primary_key=True)
    guest_id = pw.BigIntegerField(null=True, index=True)
    version = pw.IntegerField(default=0)
    deleted = pw.BooleanField(default=False)
    room_number = pw.CharField(max_length=16, null=True)
    room_type = pw.CharField(max_length=64, null=True)
    check_in = pw.DateField(null=True)
    check_out = pw.DateField(null=True)
    status = pw.CharField(max_length=16, null=True)
    total_amount = pw.DecimalField(max_digits=12, decimal_places=2, auto_round=True, null=True)
    currency = pw.CharField(max_length=3, null=True)
    adults = pw.IntegerField(null=True)
    children = pw.IntegerField(null=True)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "reservation_mirror"
        indexes = (
            (("reservation_id", "version", "deleted"), False),  # reconciliation (migration 007)
        )


class Rejection(BaseModel):
    """A webhook request refused before it was applied (the reason is the error code)."""

    id = IdField()
    reason = pw.CharField(max_length=32)
    remote_ip = pw.CharField(max_length=64, null=True)
    received_at = UtcDateTimeField(default=utcnow)
    webhook_id = pw.CharField(max_length=WEBHOOK_ID_MAX, null=True)

    class Meta:
        table_name = "rejection"
        indexes = ((("received_at",), False),)  # the last hour's counts (migration 008)
