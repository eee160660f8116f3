"""How ops commands print: aligned tables and key/value blocks for people, the API's JSON shapes
for scripts, and short renderings of times and ages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TextIO
from collections.abc import Iterable, Sequence

from core.db import utcnow


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> None:
    """Left-aligned columns two spaces apart, the header first; ``None`` shows as ``-``."""
    cells = [list(columns)] + [[_cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)


def fields(pairs: Iterable[tuple[str, Any]], out: TextIO) -> None:
    """One ``name: value`` line per pair, the values aligned."""
    pairs = list(pairs)
    width = max((len(name) for name, _ in pairs), default=0)
    for name, value in pairs:
        print(f"{name + ':':<{width + 1}} {_cell(value)}", file=out)


def as_json(body: Any, out: TextIO) -> None:
    print(json.dumps(body, indent=2), file=out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def duration(seconds: float | None) -> str | None:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``: the two largest units, for a glance."""
    if seconds is None:
        return None
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def ago(timestamp: str | None, now: dt.datetime | None = None) -> str | None:
    """An API timestamp (ISO 8601 UTC) as its age, ``3h05m ago``."""
    if timestamp is None:
        return None
    when = dt.datetime.fromisoformat(timestamp).astimezone(dt.UTC).replace(tzinfo=None)
    return f"{duration(((now or utcnow()) - when).total_seconds())} ago"


def plural(count: int, noun: str) -> str:
    """``1 delivery``, ``2 deliveries``."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"


def cut(text: str | None, length: int) -> str | None:
    """``text`` on one line, at most ``length`` characters."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
