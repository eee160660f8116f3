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

from core.contract import (  # noqa: F401 - the vocabularies the pages use, re-exported
    ACCEPTED,
    BREAKER_CLOSED,
    BREAKER_HALF_OPEN,
    BREAKER_OPEN,
    BREAKER_STATES,
    DELIVERED,
    DELIVERING,
    DELIVERY_STATUSES,
    DUPLICATE,
    EVENT_STATUSES,
    EVENT_TYPES,
    FAILED,
    FAILING,
    GONE,
    HELD,
    IGNORED,
    MANUAL,
    NEW,
    OUTBOX_STATUSES,
    PENDING,
    PROCESSED,
    RETURNING,
    STALE,
    TIERS,
    VIP,
    DELIVERY_FAILED,
    ENDPOINT_DISABLED,
    ENDPOINT_FAILING,
    ENDPOINT_RECOVERED,
    NOTIFICATION_TYPES,
    SYNC_ABANDONED,
    SYNC_COMPLETED,
    SYNC_DRIFT,
    SYNC_RUN_STATUSES,
    SYNC_RUNNING,
)

# The counts an endpoint's tile shows: what waits, what waits for an operator, what gave up.
TILE_COUNTS = (PENDING, HELD, FAILED)

STATUS_CLASSES = {
    # good: the thing reached its goal
    DELIVERED: "good",
    PROCESSED: "good",
    ACCEPTED: "good",
    BREAKER_CLOSED: "good",
    "ok": "good",
    SYNC_COMPLETED: "good",
    "enabled": "good",
    # in motion
    PENDING: "active",
    DELIVERING: "active",
    SYNC_RUNNING: "active",
    # needs attention
    FAILED: "bad",
    "rejected": "bad",
    BREAKER_OPEN: "bad",
    "unavailable": "bad",
    "disabled": "bad",
    SYNC_ABANDONED: "bad",
    # waiting to recover, or for someone
    BREAKER_HALF_OPEN: "warn",
    HELD: "warn",
    # nothing to do
    STALE: "muted",
    IGNORED: "muted",
    DUPLICATE: "muted",
}

TIER_CLASSES = {VIP: "warn", RETURNING: "active", NEW: "muted"}

BREAKER_HELP = {
    BREAKER_OPEN: "Failing: the PMS is holding its deliveries and probes again shortly. Nothing is lost.",
    BREAKER_HALF_OPEN: "Probing with one delivery.",
    BREAKER_CLOSED: "Deliveries flow normally.",
}

DISABLED_REASONS = {
    MANUAL: "disabled by an operator",
    GONE: "it answered 410 Gone",
    FAILING: "it kept failing for too long",
}

NOTIFICATION_LEVELS = {
    ENDPOINT_FAILING: "bad",
    ENDPOINT_DISABLED: "bad",
    DELIVERY_FAILED: "bad",
    ENDPOINT_RECOVERED: "good",
    SYNC_DRIFT: "warn",
}


def status_class(value: object) -> str:
    return "st-" + STATUS_CLASSES.get(str(value), "muted")


def tier_class(value: object) -> str:
    return "tier-" + TIER_CLASSES.get(str(value), "muted")


def for_browser() -> dict:
    """What static/dashboard.js needs to draw what the templates draw."""
    return {
        "status_classes": STATUS_CLASSES,
        "tier_classes": TIER_CLASSES,
        "breaker_help": BREAKER_HELP,
        "disabled_reasons": DISABLED_REASONS,
        "notification_levels": NOTIFICATION_LEVELS,
        "outbox_statuses": list(OUTBOX_STATUSES),
        "tile_counts": list(TILE_COUNTS),
        "event_types": list(EVENT_TYPES),
    }


BROWSER_JSON = json.dumps(for_browser(), separators=(",", ":"), sort_keys=True)
