"""Checks of GraphQL arguments that mirror the REST query checks (``validation_error``)."""

from __future__ import annotations

from ..contract import MAX_ID
from ..errors import ValidationError


def choice(field: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is not None and value not in choices:
        raise ValidationError.single(field, f"must be one of {', '.join(choices)}")
    return value


def non_negative(field: str, value: int | None) -> int | None:
    if value is not None and value < 0:
        raise ValidationError.single(field, "must be a non-negative integer")
    return value


def found_id(value: int) -> bool:
    """Whether ``value`` can be an id at all (a lookup of any other answers null)."""
    return 0 < value <= MAX_ID
