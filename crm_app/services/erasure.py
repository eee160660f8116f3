"""Erasing a deleted guest's personal data from the audit log.

Only guest payloads carry personal fields. On ``guest.deleted`` every earlier guest event of
that guest has them replaced by ``null``; a guest event that arrives after the delete (a late
or replayed copy) is scrubbed before it is recorded, so erasure is not undone by a straggler.
"""

from __future__ import annotations

from core.contract import GUEST_CREATED, GUEST_UPDATED

from ..models import PERSONAL_FIELDS, Event

GUEST_EVENT_TYPES = (GUEST_CREATED, GUEST_UPDATED)


def scrub(payload: dict) -> dict:
    """The payload with every personal field that it has set to ``None``."""
    return {k: (None if k in PERSONAL_FIELDS else v) for k, v in payload.items()}


def erase_guest_events(guest_id: int) -> int:
    """Null the personal fields in the audit-log payloads of one guest; returns rows changed."""
    changed = 0
    events = Event.select(Event.id, Event.payload).where(
        (Event.guest_id == guest_id) & Event.type.in_(GUEST_EVENT_TYPES)
    )
    for event in events:
        if isinstance(event.payload, dict) and any(event.payload.get(f) is not None for f in PERSONAL_FIELDS):
            Event.update(payload=scrub(event.payload)).where(Event.id == event.id).execute()
            changed += 1
    return changed
