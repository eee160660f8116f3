"""The Jinja2 environment of the dashboard: autoescaped templates and the filters pages share.

Every string from the services reaches the HTML through autoescaping (or ``markupsafe.escape``
inside the filters that build markup), so a guest named ``<script>`` is shown as text. Every id
a service sent goes into a link through the ``segment`` filter (``dashboard/links.py``), so it
stays one path segment whatever it contains.
The status vocabulary is mapped to one set of colour classes used on every page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from .chart import parse_time
from .links import segment

STATUS_CLASSES = {
    # good: the thing reached its goal
    "delivered": "good", "processed": "good", "accepted": "good", "closed": "good", "ok": "good",
    # in motion
    "pending": "active", "delivering": "active",
    # needs attention
    "failed": "bad", "rejected": "bad", "open": "bad", "unavailable": "bad",
    # waiting to recover
    "half_open": "warn",
    # nothing to do
    "stale": "muted", "ignored": "muted", "duplicate": "muted",
}

TIER_CLASSES = {"vip": "warn", "returning": "active", "new": "muted"}


def status_class(value: Any) -> str:
    return "st-" + STATUS_CLASSES.get(str(value), "muted")


def badge(value: Any, label: str | None = None) -> Markup:
    """A coloured status label; the text carries the meaning, the colour only repeats it."""
    text = label if label is not None else str(value if value is not None else "unknown").replace("_", " ")
    return Markup('<span class="badge {cls}" data-status="{status}">{text}</span>').format(
        cls=status_class(value), status=str(value), text=text)


def tier_badge(value: Any) -> Markup:
    return Markup('<span class="badge tier-{cls}">{text}</span>').format(
        cls=TIER_CLASSES.get(str(value), "muted"), text=str(value or "unknown"))


def time_tag(value: Any) -> Markup:
    """``<time>`` in UTC; static/dashboard.js shows it in the viewer's local time, UTC on hover."""
    parsed = parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        return Markup('<span class="none">{}</span>').format(value if value else "–")
    iso = parsed.strftime("%Y-%m-%dT%H:%M:%S") + (f".{parsed.microsecond // 1000:03d}" if parsed.microsecond else "") + "Z"
    shown = parsed.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{iso}" title="{shown}">{shown}</time>').format(iso=iso, shown=shown)


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def money(values: Any) -> str:
    """``{"USD": "480.00", "EUR": "12.00"}`` as ``480.00 USD · 12.00 EUR``."""
    if not isinstance(values, dict) or not values:
        return "–"
    return " · ".join(f"{amount} {currency}" for currency, amount in sorted(values.items()))


def age(seconds: Any) -> str:
    """A duration in seconds as ops read it: ``45 s``, ``12 min 5 s``, ``3 h 20 min``, ``2 d 4 h``."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return "–"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


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
    env.filters.update(status_class=status_class, badge=badge, tier_badge=tier_badge,
                       time=time_tag, pretty_json=pretty_json, money=money, short_id=short_id, age=age,
                       segment=segment)
    env.globals.update(escape=escape)
    return env
