"""Applying one event to the CRM's state so that delivery order never matters (docs/receiver.md, "Convergence").

Each guest and reservation has one row holding the highest version seen. An event applies only
when its key ``(is_delete, version)`` is greater than the row's: among live copies the higher
version wins, and a tombstone beats any live copy (the PMS always gives a delete the entity's
last version, so this is exactly "higher version wins" for real histories, and keeps erasure
final even for a malformed one). Every profile a change touches has its stats recomputed from
the mirror. State is therefore a function of the set of events, not of their order.

Each ``apply_*`` works on a locked ``WorkingSet`` and returns ``(applied, guest_id, audit_payload)``.
"""

from __future__ import annotations

from core.contract import (
    GUEST_CREATED,
    GUEST_DELETED,
    GUEST_UPDATED,
    RESERVATION_CREATED,
    RESERVATION_DELETED,
    RESERVATION_UPDATED,
)

from ..models import PERSONAL_FIELDS
from .erasure import scrub
from .working_set import WorkingSet

GUEST_IDENTITY = (*PERSONAL_FIELDS, "country")
RESERVATION_FIELDS = (
    "room_number",
    "room_type",
    "check_in",
    "check_out",
    "status",
    "total_amount",
    "currency",
    "adults",
    "children",
)


def _newer(row_deleted: bool, row_version: int | None, deleted: bool, version: int) -> bool:
    return (deleted, version) > (bool(row_deleted), row_version or 0)


def apply_guest_upsert(rows: WorkingSet, values: dict, payload: dict) -> tuple[bool, int, dict]:
    profile = rows.guest(values["id"])
    if not _newer(profile.deleted, profile.version, False, values["version"]):
        # A late copy of an erased guest must not bring personal data back into the audit log.
        return False, profile.guest_id, scrub(payload) if profile.deleted else payload
    for name in GUEST_IDENTITY:
        setattr(profile, name, values.get(name))
    profile.email_key = values["email"].lower()
    profile.version = values["version"]
    rows.touch_guests(profile.guest_id)
    return True, profile.guest_id, payload


def apply_guest_delete(rows: WorkingSet, values: dict, payload: dict) -> tuple[bool, int, dict]:
    profile = rows.guest(values["id"])
    if not _newer(profile.deleted, profile.version, True, values["version"]):
        return False, profile.guest_id, payload
    for name in GUEST_IDENTITY:
        setattr(profile, name, None)
    profile.email_key = None
    profile.deleted = True
    profile.version = values["version"]
    rows.touch_guests(profile.guest_id)
    rows.erase(profile.guest_id)
    return True, profile.guest_id, payload


def _apply_reservation(rows: WorkingSet, values: dict, deleted: bool) -> bool:
    mirror = rows.mirror(values["id"])
    if not _newer(mirror.deleted, mirror.version, deleted, values["version"]):
        return False
    previous_guest = mirror.guest_id
    for name in RESERVATION_FIELDS:
        # Delete payloads carry no data: a tombstone looks the same whichever copy came first.
        setattr(mirror, name, values.get(name))
    mirror.guest_id = values["guest_id"]
    mirror.version = values["version"]
    mirror.deleted = deleted
    mirror.updated_at = rows.now
    rows.touch_mirror(mirror.reservation_id)
    rows.touch_guests(*({values["guest_id"]} | ({previous_guest} if previous_guest is not None else set())))
    return True


def apply_reservation_upsert(rows: WorkingSet, values: dict, payload: dict) -> tuple[bool, int, dict]:
    return _apply_reservation(rows, values, False), values["guest_id"], payload


def apply_reservation_delete(rows: WorkingSet, values: dict, payload: dict) -> tuple[bool, int, dict]:
    return _apply_reservation(rows, values, True), values["guest_id"], payload


APPLIERS = {
    GUEST_CREATED: apply_guest_upsert,
    GUEST_UPDATED: apply_guest_upsert,
    GUEST_DELETED: apply_guest_delete,
    RESERVATION_CREATED: apply_reservation_upsert,
    RESERVATION_UPDATED: apply_reservation_upsert,
    RESERVATION_DELETED: apply_reservation_delete,
}


def entity_ids(event_type: str, values: dict) -> tuple[list[int], list[int]]:
    """The (reservation ids, guest ids) an event will lock, for locking a whole batch up front."""
    if event_type.startswith("reservation."):
        return [values["id"]], [values["guest_id"]]
    return [], [values["id"]]
