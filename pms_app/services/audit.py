"""The audit log of operator actions: one call records an action; the list route reads them.

``record(actor, action, target, **details)`` runs inside the caller's unit of work, so the
entry commits or rolls back with the action it describes: an action that failed leaves no
entry, and an entry that could not be written undoes the action. Every state-changing
operator action calls it once (delivery replays, every endpoint change and action; a new
action adds its name to ``ACTIONS``).
"""

from __future__ import annotations

from core.db import utcnow
from core.pagination import PageRequest, paginate

from ..models import AuditEntry
from ..operators import Actor

DELIVERY_REPLAY = "delivery.replay"
DELIVERIES_REPLAY_FAILED = "deliveries.replay_failed"
DELIVERIES_RECOVER = "deliveries.recover"  # every delivery of an endpoint since a time
ENDPOINT_CREATE = "endpoint.create"
ENDPOINT_UPDATE = "endpoint.update"
ENDPOINT_DELETE = "endpoint.delete"
ENDPOINT_ROTATE_SECRET = "endpoint.rotate_secret"
ENDPOINT_ENABLE = "endpoint.enable"
ENDPOINT_DISABLE = "endpoint.disable"
ENDPOINT_TEST = "endpoint.test"
ACTIONS = (
    DELIVERY_REPLAY,
    DELIVERIES_REPLAY_FAILED,
    DELIVERIES_RECOVER,
    ENDPOINT_CREATE,
    ENDPOINT_UPDATE,
    ENDPOINT_DELETE,
    ENDPOINT_ROTATE_SECRET,
    ENDPOINT_ENABLE,
    ENDPOINT_DISABLE,
    ENDPOINT_TEST,
)


def record(actor: Actor, action: str, target: str | None = None, **details) -> AuditEntry:
    """Write one entry in the caller's transaction. ``details`` must be JSON-serialisable."""
    if action not in ACTIONS:
        # A typo here would file actions under a name no ``?action=`` filter accepts.
        raise ValueError(f"unknown audit action {action!r}")
    return AuditEntry.create(
        operator=actor.operator,
        action=action,
        target=target,
        details=details or None,
        request_id=actor.request_id,
        at=utcnow(),
    )


def list_entries(
    page: PageRequest, operator: str | None = None, action: str | None = None
) -> tuple[list[dict], str | None]:
    """Entries newest first (or ascending after ``since_id``), optionally of one operator/action."""
    query = AuditEntry.select()
    if operator is not None:
        query = query.where(AuditEntry.operator == operator)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    rows, cursor = paginate(query, AuditEntry.id, page)
    return [row.to_api() for row in rows], cursor
