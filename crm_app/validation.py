"""Validation of a verified webhook body (docs/webhooks.md): the envelope, then
the payload for its type.

``parse_webhook(data, webhook_id)`` returns an ``Incoming`` (the raw payload for the audit log
plus the cleaned values the profile logic applies) or raises ``ValidationError`` with one
``{"field", "message"}`` detail per bad field. Payload fields are named ``payload.<field>``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.contract import (
    GUEST_CREATED,
    GUEST_DELETED,
    GUEST_UPDATED,
    MAX_ID,
    RESERVATION_CREATED,
    RESERVATION_DELETED,
    RESERVATION_STATUSES,
    RESERVATION_UPDATED,
)
from core.errors import InvalidJSONError, ValidationError
from core.validation import MISSING, Checker, present, stay_problem

from .models import WEBHOOK_ID_MAX

MAX_VERSION = 2**31 - 1
MAX_TIMESTAMP_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class Incoming:
    """One verified, validated webhook ready to be recorded and applied."""

    webhook_id: str
    type: str
    occurred_at: dt.datetime | None
    payload: dict  # as received, for the audit log
    values: dict | None  # cleaned fields for a known type; None for an unknown one
    trace_id: str | None = None  # of the trace the webhook belongs to

    @property
    def known(self) -> bool:
        return self.values is not None


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """``InvalidJSONError`` when arrays/objects nest deeper than ``limit`` (iterative, no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            raise InvalidJSONError(f"the body is nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children)


def _entity_keys(check: Checker) -> dict:
    return {
        "id": check.integer("id", required=True, minimum=1, maximum=MAX_ID),
        "version": check.integer("version", required=True, minimum=1, maximum=MAX_VERSION),
    }


def _guest_values(payload: dict) -> tuple[Checker, dict]:
    check = Checker(payload, prefix="payload.")
    values = {
        **_entity_keys(check),
        "email": check.email("email", required=True),
        "name": check.string("name", required=True, min_len=1, max_len=200, nullable=False),
        "phone": check.string("phone", max_len=32),
        "date_of_birth": check.date("date_of_birth"),
        "country": check.string("country", max_len=64),
    }
    return check, values


def _reservation_values(payload: dict) -> tuple[Checker, dict]:
    check = Checker(payload, prefix="payload.")
    values = {
        **_entity_keys(check),
        "guest_id": check.integer("guest_id", required=True, minimum=1, maximum=MAX_ID),
        "room_number": check.string("room_number", max_len=16),
        "room_type": check.string("room_type", max_len=64),
        "check_in": check.date("check_in", required=True),
        "check_out": check.date("check_out", required=True),
        "status": check.choice("status", RESERVATION_STATUSES, required=True),
        "total_amount": check.decimal("total_amount", required=True, minimum=Decimal("0")),
        "currency": check.currency("currency", required=True),
        "adults": check.integer("adults", minimum=0, maximum=1000, nullable=True),
        "children": check.integer("children", minimum=0, maximum=1000, nullable=True),
    }
    problem = stay_problem(values["check_in"], values["check_out"])
    if problem:
        check.error("check_out", problem)
    return check, values


def _deleted_values(payload: dict, with_guest: bool) -> tuple[Checker, dict]:
    check = Checker(payload, prefix="payload.")
    values = {
        **_entity_keys(check),
        "deleted_at": check.string("deleted_at", required=True, min_len=1, max_len=64, nullable=False),
    }
    if with_guest:
        values["guest_id"] = check.integer("guest_id", required=True, minimum=1, maximum=MAX_ID)
    return check, values


PAYLOAD_CHECKS = {
    GUEST_CREATED: _guest_values,
    GUEST_UPDATED: _guest_values,
    GUEST_DELETED: lambda p: _deleted_values(p, with_guest=False),
    RESERVATION_CREATED: _reservation_values,
    RESERVATION_UPDATED: _reservation_values,
    RESERVATION_DELETED: lambda p: _deleted_values(p, with_guest=True),
}


def parse_webhook(data: dict, webhook_id: str, trace_id: str | None = None) -> Incoming:
    """The envelope and its payload checked together, every bad field reported at once."""
    check = Checker(data)
    details: list[dict] = []
    if len(webhook_id) > WEBHOOK_ID_MAX:
        details.append({"field": "webhook-id", "message": f"must be at most {WEBHOOK_ID_MAX} characters"})
    event_type = check.string("type", required=True, min_len=1, max_len=64, nullable=False)
    timestamp = check.integer("timestamp", required=True, minimum=0, maximum=MAX_TIMESTAMP_MS)
    key = data.get("idempotency_key", MISSING)
    if key is not MISSING and key is not None and key != webhook_id:  # null counts as absent
        check.error("idempotency_key", "must equal the webhook-id header")
    payload = data.get("payload", MISSING)
    if payload is MISSING or payload is None:
        check.error("payload", "is required")
    elif not isinstance(payload, dict):
        check.error("payload", "must be a JSON object")
    values = None
    if isinstance(payload, dict) and event_type in PAYLOAD_CHECKS:
        payload_check, raw_values = PAYLOAD_CHECKS[event_type](payload)
        check.details.extend(payload_check.details)
        values = present(raw_values)
    details.extend(check.details)
    if details:
        raise ValidationError(details)
    occurred_at = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=timestamp)
    return Incoming(
        webhook_id=webhook_id,
        type=event_type,
        occurred_at=occurred_at,
        payload=payload,
        values=values,
        trace_id=trace_id,
    )
