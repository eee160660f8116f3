"""The services' vocabularies as the dashboard shows them, defined once for Python, the templates
and the browser.

Statuses, tiers, breaker states, notification types and disabled reasons are the values the
PMS and CRM APIs send; each is mapped here to the colour class the pages use and, where the
pages explain it, to the sentence shown. Templates read them through the Jinja filters of
``dashboard/views.py``; static/dashboard.js reads ``for_browser()`` from the page (a JSON data
attribute on ``<body>``), so the script repeats no map of its own.
"""

from __future__ import annotations

import json

from core.contract import EVENT_TYPES

# PMS deliveries: the four of the status route's counts, and ``held`` (for a disabled endpoint).
OUTBOX_STATUSES = ("pending", "delivering", "delivered", "failed")
DELIVERY_STATUSES = (*OUTBOX_STATUSES, "held")
# The counts an endpoint's tile shows: what waits, what waits for an operator, what gave up.
TILE_COUNTS = ("pending", "held", "failed")
# CRM audit-log events.
EVENT_STATUSES = ("processed", "stale", "ignored")
TIERS = ("new", "returning", "vip")
BREAKER_STATES = ("closed", "half_open", "open")
NOTIFICATION_TYPES = ("endpoint.failing", "endpoint.recovered", "endpoint.disabled", "delivery.failed",
                      "sync.drift")
SYNC_RUN_STATUSES = ("running", "completed", "failed", "abandoned")

STATUS_CLASSES = {
    # good: the thing reached its goal
    "delivered": "good", "processed": "good", "accepted": "good", "closed": "good", "ok": "good",
    "completed": "good", "enabled": "good",
    # in motion
    "pending": "active", "delivering": "active", "running": "active",
    # needs attention
    "failed": "bad", "rejected": "bad", "open": "bad", "unavailable": "bad", "disabled": "bad",
    "abandoned": "bad",
    # waiting to recover, or for someone
    "half_open": "warn", "held": "warn",
    # nothing to do
    "stale": "muted", "ignored": "muted", "duplicate": "muted",
}

TIER_CLASSES = {"vip": "warn", "returning": "active", "new": "muted"}

BREAKER_HELP = {
    "open": "Failing: the PMS is holding its deliveries and probes again shortly. Nothing is lost.",
    "half_open": "Probing with one delivery.",
    "closed": "Deliveries flow normally.",
}

DISABLED_REASONS = {
    "manual": "disabled by an operator",
    "gone": "it answered 410 Gone",
    "failing": "it kept failing for too long",
}

NOTIFICATION_LEVELS = {
    "endpoint.failing": "bad", "endpoint.disabled": "bad", "delivery.failed": "bad",
    "endpoint.recovered": "good", "sync.drift": "warn",
}


def status_class(value: object) -> str:
    return "st-" + STATUS_CLASSES.get(str(value), "muted")


def tier_class(value: object) -> str:
    return "tier-" + TIER_CLASSES.get(str(value), "muted")


def for_browser() -> dict:
    """What static/dashboard.js needs to draw what the templates draw."""
    return {"status_classes": STATUS_CLASSES, "tier_classes": TIER_CLASSES, "breaker_help": BREAKER_HELP,
            "disabled_reasons": DISABLED_REASONS, "notification_levels": NOTIFICATION_LEVELS,
            "outbox_statuses": list(OUTBOX_STATUSES), "tile_counts": list(TILE_COUNTS),
            "event_types": list(EVENT_TYPES)}


BROWSER_JSON = json.dumps(for_browser(), separators=(",", ":"), sort_keys=True)
