"""The PMS's tables: guests, reservations, the outbox of webhook events, their deliveries (one per
event and endpoint) with their attempt records, and the audit log of operator actions.

Models bind to ``db`` (a ``DatabaseProxy``), initialised by ``make_app`` or the worker from
the configured URL. Each model's ``to_api()`` is the API's JSON shape, the same shape the
outbox carries as the event payload.
"""

from __future__ import annotations

import peewee as pw

# Delivery statuses and attempt triggers are the contract's; the PMS's modules import them from here.
from core.contract import (  # noqa: F401 - re-exported
    BREAKER_CLOSED,
    CONFIRMED,
    DELIVERED,
    DELIVERING,
    DELIVERY_STATUSES,
    FAILED,
    HELD,
    OUTBOX_STATUSES,
    PENDING,
    REPLAY,
    SCHEDULED,
    TEST,
)
from core.db import IdField, JSONTextField, UtcDateTimeField, iso, utcnow

db = pw.DatabaseProxy()


# The endpoint created from CRM_WEBHOOK_URL / CRM_WEBHOOK_SECRET: what part one called "the CRM".
CRM_ENDPOINT_ID = 1


class BaseModel(pw.Model):
    class Meta:
        database = db
        legacy_table_names = False


class Guest(BaseModel):
    id = IdField()
    email = pw.CharField(max_length=254)
    # lower(email): uniqueness is case-insensitive on every backend.
    email_key = pw.CharField(max_length=254, unique=True)
    name = pw.CharField(max_length=200)
    phone = pw.CharField(max_length=32, null=True)
    date_of_birth = pw.DateField(null=True)
    country = pw.CharField(max_length=64, null=True)
    version = pw.IntegerField(default=1)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("id", "version"), False),)  # reconciliation reads only this (migration 011)

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "phone": self.phone,
            "date_of_birth": iso(self.date_of_birth),
            "country": self.country,
            "version": self.version,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class Reservation(BaseModel):
    id = IdField()
    guest = pw.ForeignKeyField(Guest, backref="reservations", column_name="guest_id", on_delete="RESTRICT", index=True)
    room_number = pw.CharField(max_length=16, null=True)
    room_type = pw.CharField(max_length=64, null=True)
    check_in = pw.DateField()
    check_out = pw.DateField()
    status = pw.CharField(max_length=16, default=CONFIRMED, index=True)
    total_amount = pw.DecimalField(max_digits=12, decimal_places=2, auto_round=True, default=0)
    currency = pw.CharField(max_length=3, default="USD")
    adults = pw.IntegerField(default=1)
    children = pw.IntegerField(default=0)
    notes = pw.TextField(null=True)
    version = pw.IntegerField(default=1)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("id", "version"), False),)  # reconciliation reads only this (migration 012)

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "guest_id": self.guest_id,
            "room_number": self.room_number,
            "room_type": self.room_type,
            "check_in": iso(self.check_in),
            "check_out": iso(self.check_out),
            "status": self.status,
            "total_amount": f"{self.total_amount:.2f}",
            "currency": self.currency,
            "adults": self.adults,
            "children": self.children,
            "notes": self.notes,
            "version": self.version,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class OutboxEvent(BaseModel):
    """One webhook event, written once in the same transaction as the change it announces.

    ``seq`` orders events; ``id`` (a UUID) is the ``webhook-id`` for every endpoint and the
    event's public address. Delivery state lives in ``Delivery``, one row per endpoint.
    """

    seq = IdField()
    id = pw.CharField(max_length=36, unique=True)
    type = pw.CharField(max_length=32, index=True)
    entity_id = pw.BigIntegerField(index=True)
    entity_version = pw.IntegerField()
    payload = JSONTextField()
    occurred_at = UtcDateTimeField()
    created_at = UtcDateTimeField(default=utcnow)
    # The W3C trace context of the API request that made the change (null for events made
    # outside a request, such as reconciliation's repairs): every attempt continues that trace.
    traceparent = pw.CharField(max_length=55, null=True)

    class Meta:
        table_name = "outbox_event"


class Delivery(BaseModel):
    """One event on its way to one endpoint: its status, retry step, claim and replay mark.

    The event's id, type, entity, version and guest are copied here from ``outbox_event`` so the
    claim, the per-entity order check, the lists and the counts read this table alone; the
    payload is stored once, on the event. ``id`` is what lists page by (``seq`` in the API);
    rows migrated from part one kept their event's ``seq`` as id.
    """

    id = IdField()
    event_seq = pw.BigIntegerField()
    event_id = pw.CharField(max_length=36)
    endpoint_id = pw.BigIntegerField()
    type = pw.CharField(max_length=32)
    entity_id = pw.BigIntegerField()
    entity_version = pw.IntegerField()
    # The guest the event is about: the guest's own id, or a reservation's guest_id.
    guest_id = pw.BigIntegerField(null=True)
    status = pw.CharField(max_length=16, default=PENDING)
    attempt_count = pw.IntegerField(default=0)
    # attempt_count counts every attempt ever; the retry schedule restarts at each replay, so
    # its step comes from the attempts made since then.
    attempts_since_replay = pw.IntegerField(default=0)
    next_attempt_at = UtcDateTimeField(default=utcnow)
    claimed_by = pw.CharField(max_length=64, null=True)
    lease_until = UtcDateTimeField(null=True)
    last_error = pw.TextField(null=True)
    last_status_code = pw.IntegerField(null=True)
    # The trigger the next attempt records: "replay" from a replay until that attempt is made,
    # with the operator who asked for it (null when an API client named none).
    next_trigger = pw.CharField(max_length=16, default=SCHEDULED)
    replayed_by = pw.CharField(max_length=64, null=True)
    created_at = UtcDateTimeField(default=utcnow)
    delivered_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "delivery"
        indexes = (
            (("event_id", "endpoint_id"), True),  # one per (event, endpoint)
            (("event_seq",), False),  # an event's deliveries
            (("status", "next_attempt_at", "id"), False),  # the claim query
            (("status", "delivered_at"), False),  # retention pruning
            (("endpoint_id", "entity_id", "status", "event_seq"), False),  # per-entity order check
            (("endpoint_id", "status", "id"), False),  # per-endpoint lists, counts
            (("endpoint_id", "guest_id", "id"), False),  # ?guest_id= lists
        )

    def to_summary(self) -> dict:
        return {
            "id": self.event_id,
            "type": self.type,
            "status": self.status,
            "entity_id": self.entity_id,
            "entity_version": self.entity_version,
            "attempt_count": self.attempt_count,
            "next_attempt_at": iso(self.next_attempt_at) if self.status in (PENDING, DELIVERING) else None,
            "created_at": iso(self.created_at),
            "delivered_at": iso(self.delivered_at),
            "endpoint_id": self.endpoint_id,
            "last_error": self.last_error,
            "last_status_code": self.last_status_code,
        }


class DeliveryAttempt(BaseModel):
    """One HTTP attempt of one delivery (response body cut to 2 KiB). ``event_id`` is the event's
    UUID, kept beside ``delivery_id`` so an event's attempts to every endpoint read together."""

    id = IdField()
    event_id = pw.CharField(max_length=36, index=True)
    delivery_id = pw.BigIntegerField(null=True, index=True)
    attempt = pw.IntegerField()
    worker_id = pw.CharField(max_length=64, null=True)
    started_at = UtcDateTimeField()
    status_code = pw.IntegerField(null=True)
    duration_ms = pw.IntegerField(null=True)
    error = pw.TextField(null=True)
    response_body = pw.TextField(null=True)
    # "trigger" is a reserved word in MySQL, hence the column's longer name (migration 007).
    trigger_kind = pw.CharField(max_length=16, default=SCHEDULED, constraints=[pw.SQL(f"DEFAULT '{SCHEDULED}'")])
    replayed_by = pw.CharField(max_length=64, null=True)
    # The request this attempt made: its URL (password masked) and how many signatures it
    # carried (one per secret valid then); null for attempts recorded before migration 019.
    target_url = pw.CharField(max_length=2000, null=True)
    signatures = pw.SmallIntegerField(null=True)

    class Meta:
        table_name = "delivery_attempt"
        indexes = ((("started_at",), False),)  # an endpoint's last hour (migration 018)

    def to_api(self) -> dict:
        return {
            "attempt": self.attempt,
            "started_at": iso(self.started_at),
            "status_code": self.status_code,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "response_body": self.response_body,
            "trigger": self.trigger_kind,
            "replayed_by": self.replayed_by,
            "target_url": self.target_url,
            "request_headers": request_headers(self.event_id, self.signatures),
        }


def request_headers(event_id: str, signatures: int | None) -> dict | None:
    """The headers an attempt sent, secrets masked: the timestamp and the signatures are made
    at sending and not kept (``None`` when the attempt predates this record)."""
    if signatures is None:
        return None
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": "(unix seconds at sending)",
        "webhook-signature": " ".join(["v1,***"] * signatures) or "(none: no valid secret)",
    }


class BreakerState(BaseModel):
    """The circuit breaker of one worker process for one endpoint, as last reported by it."""

    id = IdField()
    worker_id = pw.CharField(max_length=64)
    endpoint = pw.CharField(max_length=512)
    state = pw.CharField(max_length=16, default=BREAKER_CLOSED)
    failure_count = pw.IntegerField(default=0)
    opened_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "breaker_state"
        indexes = ((("worker_id", "endpoint"), True),)


class AuditEntry(BaseModel):
    """One operator action (a replay, later an endpoint change), written in the same transaction
    as the action itself. ``operator`` is the ``X-Operator`` name, null for API clients that
    named nobody; ``details`` holds what an auditor needs beyond the target (e.g. a count)."""

    id = IdField()
    operator = pw.CharField(max_length=64, null=True)
    action = pw.CharField(max_length=64)
    target = pw.CharField(max_length=255, null=True)
    details = JSONTextField(null=True)
    request_id = pw.CharField(max_length=128, null=True)
    at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "audit_log"
        indexes = (
            (("operator", "id"), False),  # ?operator= pages by id within one operator
            (("action", "id"), False),  # ?action= likewise
        )

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "operator": self.operator,
            "action": self.action,
            "target": self.target,
            "at": iso(self.at),
            "details": self.details or {},
            "request_id": self.request_id,
        }
