"""Notifications in words ops read at a glance, for the notifications page: a level, a title, a
line of text and where to look next (the same wording the live toasts use)."""

from __future__ import annotations

from typing import Any

from .links import segment

NOTIFICATION_TYPES = ("endpoint.failing", "endpoint.recovered", "endpoint.disabled", "delivery.failed", "sync.drift")
DISABLED_REASONS = {
    "manual": "disabled by an operator",
    "gone": "it answered 410 Gone",
    "failing": "it kept failing for too long",
}


def endpoint_name(endpoint_id: Any) -> str:
    if endpoint_id is None:
        return "the PMS"
    return f"endpoint {endpoint_id}" + (" (CRM)" if str(endpoint_id) == "1" else "")


def describe(notification: dict) -> dict:
    """``{"level", "title", "text", "link"}`` for one notification as the PMS lists it."""
    data = notification.get("data") if isinstance(notification.get("data"), dict) else {}
    endpoint_id = notification.get("endpoint_id")
    who = endpoint_name(endpoint_id)
    link = f"/endpoints/{segment(endpoint_id)}" if endpoint_id is not None else None
    kind = notification.get("type")
    if kind == "endpoint.failing":
        count = data.get("failure_count")
        return {
            "level": "bad",
            "title": f"Failing: {who}",
            "link": link,
            "text": (f"{count} failures in a row. " if count is not None else "")
            + "Its deliveries wait; nothing is lost.",
        }
    if kind == "endpoint.recovered":
        return {"level": "good", "title": f"Recovered: {who}", "text": "Deliveries flow again.", "link": link}
    if kind == "endpoint.disabled":
        reason = data.get("reason")
        return {
            "level": "bad",
            "title": f"Disabled: {who}",
            "link": link,
            "text": f"Its deliveries are held: {DISABLED_REASONS.get(reason, reason or 'no reason given')}.",
        }
    if kind == "delivery.failed":
        event_id = str(data.get("event_id") or "")
        error = data.get("last_error")
        if event_id:
            link = f"/deliveries/{segment(event_id)}" + (
                f"?endpoint={segment(endpoint_id)}" if endpoint_id is not None and str(endpoint_id) != "1" else ""
            )
        return {
            "level": "bad",
            "title": f"Delivery failed for good: {who}",
            "link": link,
            "text": f"{data.get('type') or 'an event'} {event_id[:8]}"
            + (f" ({error})" if error else "")
            + "; replay it once fixed.",
        }
    if kind == "sync.drift":
        return {
            "level": "warn",
            "title": "Reconciliation found drift",
            "link": None,
            "text": f"{data.get('drifted')} out of step with the CRM, {data.get('repaired')} repaired, "
            f"{data.get('unrepairable')} unrepairable" + (" (dry run)." if data.get("dry_run") else "."),
        }
    return {"level": "warn", "title": str(kind), "text": who, "link": link}
