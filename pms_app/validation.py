"""Validation of guest and reservation request bodies, one detail per bad field.

Unknown fields are ignored. ``partial=True`` validates a PUT: only the fields given are
checked, and required fields may be absent but not ``null``.
"""

from __future__ import annotations

from decimal import Decimal

from core.contract import RESERVATION_STATUSES
from core.errors import ValidationError
from core.validation import MISSING, Checker, present, stay_problem


def validate_guest(data: dict, partial: bool = False) -> dict:
    check = Checker(data)
    values = {
        "email": check.email("email", required=not partial),
        "name": check.string("name", required=not partial, min_len=1, max_len=200, nullable=False),
        "phone": check.phone("phone"),
        "date_of_birth": check.date("date_of_birth", not_future=True),
        "country": check.string("country", max_len=64),
    }
    if partial and data.get("email", MISSING) is None:
        check.error("email", "must not be null")
    check.raise_if_invalid()
    values = present(values)
    if values.get("country") == "":
        values["country"] = None
    return values


def validate_reservation(data: dict, current: dict | None = None) -> dict:
    """Fields of a create (``current`` None) or an update merged over ``current``."""
    partial = current is not None
    check = Checker(data)
    values = {
        "guest_id": check.integer("guest_id", required=not partial, minimum=1),
        "room_number": check.string("room_number", max_len=16),
        "room_type": check.string("room_type", max_len=64),
        "check_in": check.date("check_in", required=not partial),
        "check_out": check.date("check_out", required=not partial),
        "status": check.choice("status", RESERVATION_STATUSES),
        "total_amount": check.decimal("total_amount", minimum=Decimal("0")),
        "currency": check.currency("currency"),
        "adults": check.integer("adults", minimum=1, maximum=50),
        "children": check.integer("children", minimum=0, maximum=50),
        "notes": check.string("notes", max_len=2000, strip=False),
    }
    for name in ("guest_id", "check_in", "check_out", "status", "total_amount", "currency", "adults", "children"):
        if data.get(name, MISSING) is None and values[name] is not MISSING:
            check.error(name, "must not be null")
            values[name] = MISSING
    check.raise_if_invalid()
    values = present(values)
    merged = {**(current or {}), **values}
    check_in, check_out = merged.get("check_in"), merged.get("check_out")
    problem = stay_problem(check_in, check_out)
    if problem:
        raise ValidationError.single("check_out", problem)
    return values
