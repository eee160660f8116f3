"""Field-level validation that collects one detail per invalid field.

``Checker`` wraps a JSON object; each ``require_*``/``optional_*`` call validates one field,
records ``{"field", "message"}`` on failure and returns the cleaned value. ``checker.raise_if_invalid()``
raises ``ValidationError`` with every detail at once. Both services build their
schemas from these primitives.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .contract import MAX_STAY_NIGHTS
from .errors import ValidationError

_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"^[^@\s<>()\[\],;:\"]+@{_DNS_LABEL}(?:\.{_DNS_LABEL})+$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ().-]{5,30}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MISSING = object()


class Checker:
    def __init__(self, data: dict, prefix: str = ""):
        self.data = data
        self.prefix = prefix
        self.details: list[dict] = []

    def error(self, field: str, message: str) -> None:
        self.details.append({"field": self.prefix + field, "message": message})

    @property
    def ok(self) -> bool:
        return not self.details

    def raise_if_invalid(self) -> None:
        if self.details:
            raise ValidationError(self.details)

    def _get(self, field: str, required: bool) -> Any:
        value = self.data.get(field, MISSING)
        if value is MISSING or (value is None and required):
            if required:
                self.error(field, "is required")
            return MISSING
        return value

    # --- primitives: each returns MISSING when the field is absent or invalid ---
    def string(
        self,
        field: str,
        *,
        required: bool = False,
        min_len: int = 0,
        max_len: int = 255,
        strip: bool = True,
        nullable: bool = True,
    ) -> Any:
        value = self._get(field, required)
        if value is MISSING:
            return MISSING
        if value is None:
            if not nullable:
                self.error(field, "must not be null")
                return MISSING
            return None
        if not isinstance(value, str):
            self.error(field, "must be a string")
            return MISSING
        if strip:
            value = value.strip()
        if len(value) < min_len:
            self.error(field, "must not be empty" if min_len == 1 else f"must be at least {min_len} characters")
            return MISSING
        if len(value) > max_len:
            self.error(field, f"must be at most {max_len} characters")
            return MISSING
        return value

    def email(self, field: str, *, required: bool = False) -> Any:
        value = self.string(field, required=required, min_len=1, max_len=254, nullable=not required)
        if isinstance(value, str) and not EMAIL_RE.match(value):
            self.error(field, "must be a valid email address")
            return MISSING
        # Emails are also stored lower-cased (the case-insensitive key), and lower-casing can
        # lengthen text ("İ" becomes two characters): the key must fit the column too.
        if isinstance(value, str) and len(value.lower()) > 254:
            self.error(field, "must be at most 254 characters once lower-cased")
            return MISSING
        return value

    def phone(self, field: str, *, required: bool = False) -> Any:
        value = self.string(field, required=required, max_len=32)
        if value == "":
            return None
        if isinstance(value, str):
            digits = re.sub(r"\D", "", value)
            if not PHONE_RE.match(value) or not 7 <= len(digits) <= 15:
                self.error(field, "must be a phone number in international form, e.g. +14155550100")
                return MISSING
        return value

    def date(
        self, field: str, *, required: bool = False, not_future: bool = False, today: dt.date | None = None
    ) -> Any:
        value = self._get(field, required)
        if value is MISSING or value is None:
            return value
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            self.error(field, "must be a date as YYYY-MM-DD")
            return MISSING
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            self.error(field, "must be a real calendar date")
            return MISSING
        if not_future and parsed > (today or dt.datetime.now(dt.UTC).date()):
            self.error(field, "must not be in the future")
            return MISSING
        return parsed

    def number(
        self, field: str, *, minimum: float, maximum: float, required: bool = False, nullable: bool = False
    ) -> Any:
        """A finite JSON number (integer or not) in ``[minimum, maximum]``, as a float."""
        value = self._get(field, required)
        if value is MISSING:
            return MISSING
        if value is None:
            if nullable:
                return None
            self.error(field, "must not be null")
            return MISSING
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.error(field, "must be a number")
            return MISSING
        if not minimum <= value <= maximum:
            self.error(field, f"must be between {minimum:g} and {maximum:g}")
            return MISSING
        return float(value)

    def integer(
        self,
        field: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        nullable: bool = False,
    ) -> Any:
        value = self._get(field, required)
        if value is MISSING:
            return MISSING
        if value is None:
            if nullable:
                return None
            self.error(field, "must not be null")
            return MISSING
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(field, "must be an integer")
            return MISSING
        if minimum is not None and value < minimum:
            self.error(field, f"must be at least {minimum}")
            return MISSING
        if maximum is not None and value > maximum:
            self.error(field, f"must be at most {maximum}")
            return MISSING
        return value

    def decimal(
        self,
        field: str,
        *,
        required: bool = False,
        minimum: Decimal | None = None,
        places: int = 2,
        max_digits: int = 12,
    ) -> Any:
        value = self._get(field, required)
        if value is MISSING or value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(field, 'must be a decimal amount such as "240.00"')
            return MISSING
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.error(field, 'must be a decimal amount such as "240.00"')
            return MISSING
        if not amount.is_finite():
            self.error(field, "must be a finite amount")
            return MISSING
        exponent = amount.as_tuple().exponent  # an int for every finite amount
        if isinstance(exponent, int) and exponent < -places:
            self.error(field, f"must have at most {places} decimal places")
            return MISSING
        if minimum is not None and amount < minimum:
            self.error(field, f"must be at least {minimum}")
            return MISSING
        # By the exponent, not abs(): arithmetic on "1e999999999999999999" overflows the
        # decimal context; a zero is small whatever its exponent.
        if amount != 0 and amount.adjusted() >= max_digits - places:
            self.error(field, "is too large")
            return MISSING
        return amount.quantize(Decimal(1).scaleb(-places))

    def choice(self, field: str, choices: tuple[str, ...], *, required: bool = False) -> Any:
        value = self._get(field, required)
        if value is MISSING or value is None:
            return value
        if value not in choices:
            self.error(field, f"must be one of {', '.join(choices)}")
            return MISSING
        return value

    def currency(self, field: str, *, required: bool = False) -> Any:
        value = self._get(field, required)
        if value is MISSING or value is None:
            return value
        if not isinstance(value, str) or not CURRENCY_RE.match(value.strip().upper()):
            self.error(field, "must be a 3-letter ISO 4217 currency code")
            return MISSING
        return value.strip().upper()


def parse_utc_datetime(field: str, raw: str) -> dt.datetime:
    """An ISO 8601 time (``Z`` or an offset; a naive one is taken as UTC) as naive UTC, the form
    every datetime column stores; 422 on ``field`` otherwise."""
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise ValidationError.single(field, "must be an ISO 8601 time such as 2026-11-30T10:00:00Z") from None
    if value.tzinfo is not None:
        try:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:
            # An offset that moves the first or last day of the calendar out of it.
            raise ValidationError.single(field, "must be a time between years 1 and 9999 in UTC") from None
    return value


def present(values: dict) -> dict:
    """Drop the fields a checker marked MISSING, keeping explicit ``None``s."""
    return {k: v for k, v in values.items() if v is not MISSING}


def stay_problem(check_in: Any, check_out: Any) -> str | None:
    """What is wrong with a stay from ``check_in`` to ``check_out`` (dates), or ``None``."""
    if not (isinstance(check_in, dt.date) and isinstance(check_out, dt.date)):
        return None
    if check_out <= check_in:
        return "must be after check_in"
    if (check_out - check_in).days > MAX_STAY_NIGHTS:
        return f"must be at most {MAX_STAY_NIGHTS} nights after check_in"
    return None
