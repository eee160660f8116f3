"""The Jinja2 environment of the dashboard: autoescaped templates and the filters pages share.

Every string from the services reaches the HTML through autoescaping (or ``markupsafe.escape``
inside the filters that build markup), so a guest named ``<script>`` is shown as text. Every id
a service sent goes into a link through the ``segment`` filter (``dashboard/links.py``), so it
stays one path segment whatever it contains.
The status vocabulary is mapped to one set of colour classes used on every page
(``dashboard/contract.py``, handed to the browser as ``contract_json``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from .chart import format_ms, parse_time
from .contract import (
    BREAKER_HELP,
    BROWSER_JSON,
    DISABLED_REASONS,
    NOTIFICATION_LEVELS,
    OUTBOX_STATUSES,
    TILE_COUNTS,
    status_class,
    tier_class,
)
from .links import segment

__all__ = ["badge", "make_environment", "status_class", "tier_badge", "time_tag"]


def badge(value: Any, label: str | None = None) -> Markup:
    """A coloured status label; the text carries the meaning, the colour only repeats it."""
    text = label if label is not None else str(value if value is not None else "unknown").replace("_", " ")
    return Markup('<span class="badge {cls}" data-status="{status}">{text}</span>').format(
        cls=status_class(value), status=str(value), text=text
    )


def tier_badge(value: Any) -> Markup:
    return Markup('<span class="badge {cls}">{text}</span>').format(cls=tier_class(value), text=str(value or "unknown"))


def time_tag(value: Any) -> Markup:
    """``<time>`` in UTC; static/dashboard.js shows it in the viewer's local time, UTC on hover."""
    parsed = parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        return Markup('<span class="none">{}</span>').format(value if value else "–")
    iso = (
        parsed.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{parsed.microsecond // 1000:03d}" if parsed.microsecond else "")
        + "Z"
    )
    shown = parsed.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{iso}" title="{shown}">{shown}</time>').format(iso=iso, shown=shown)


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def money(values: Any) -> str:
    """``{"USD": "480.00", "EUR": "12.00"}`` as ``480.00 USD · 12.00 EUR``."""
    if not isinstance(values, dict) or not values:
        return "–"
    return " · ".join(f"{amount} {currency}" for currency, amount in sorted(values.items()))


def percent(value: Any) -> str:
    """A 0..1 ratio as a percentage with one decimal (``–`` when there is none)."""
    if not isinstance(value, (int, float)):
        return "–"
    return f"{value * 100:.1f} %"


def age_text(seconds: float | None) -> str:
    """How long ago, at the precision an operator needs (the browser keeps it counting)."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return "–"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def age(value: Any) -> str:
    """The age of an ISO timestamp from a service, now."""
    since = parse_time(value) if isinstance(value, str) else None
    if since is None:
        return "–"
    return age_text((dt.datetime.now(dt.UTC) - since).total_seconds())


def disabled_reason(value: Any) -> str:
    return DISABLED_REASONS.get(str(value), str(value)) if value else ""


def notification_badge(notification: Any) -> Markup:
    kind = str((notification or {}).get("type") or "unknown") if isinstance(notification, dict) else "unknown"
    level = NOTIFICATION_LEVELS.get(kind, "warn")
    return Markup('<span class="badge st-{level}" data-type="{kind}">{kind}</span>').format(level=level, kind=kind)


def notice_details(data: Any) -> str:
    """A notification's data as short ``key: value`` pairs (the full object is in the API)."""
    if not isinstance(data, dict):
        return ""
    return " · ".join(
        f"{key.replace('_', ' ')}: {value}"
        for key, value in data.items()
        if value is not None and not isinstance(value, (dict, list))
    )


def short_id(value: Any) -> str:
    text = str(value or "")
    return text[:8] if len(text) > 12 else text


def make_environment(template_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,  # a field a service left out renders empty
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        status_class=status_class,
        badge=badge,
        tier_badge=tier_badge,
        time=time_tag,
        pretty_json=pretty_json,
        money=money,
        short_id=short_id,
        segment=segment,
        ms=format_ms,
        percent=percent,
        age=age,
        duration=age_text,
        disabled_reason=disabled_reason,
        notification_badge=notification_badge,
        notice_details=notice_details,
        breaker_help=lambda state: BREAKER_HELP.get(str(state), ""),
    )
    env.globals.update(
        escape=escape, contract_json=BROWSER_JSON, outbox_statuses=OUTBOX_STATUSES, tile_counts=TILE_COUNTS
    )
    return env
