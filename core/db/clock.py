"""The one clock and the one timestamp format: naive UTC in every column, ISO 8601 with ``Z``
in every answer."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Naive UTC now, the form every datetime column stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """ISO 8601 UTC with ``Z`` for datetimes (milliseconds), plain ISO for dates."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.isoformat()
