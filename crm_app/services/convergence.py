"""Applying one event to the CRM's state so that delivery order never matters (SPEC s6).

Each guest and reservation has one row holding the highest version seen. An event applies only
when its key ``(is_delete, version)`` is greater than the row's: among live copies the higher
version wins, and a tombstone beats any live copy (the PMS always gives a delete the entity's
last version, so this is exactly "higher version wins" for real histories, and keeps erasure
final even for a malformed one). Every profile a change touches has its stats recomputed from
the mirror. State is therefore a function of the set of events, not of their order.

Each ``apply_*`` returns ``(applied, guest_id, audit_payload)``.
"""

from __future__ import annotations

import datetime as dt

from ..models import PERSONAL_FIELDS
from .erasure import erase_guest_events, scrub
from .rows import lock_guest, lock_guests, lock_reservation
from .stats import recompute

GUEST_IDENTITY = (*PERSONAL_FIELDS, "country")
RESERVATION_FIELDS = ("room_number", "room_type", "check_in", "check_out", "status",
                      "total_amount", "currency", "adults", "children")


def _newer(row_deleted: bool, row_version: int | None, deleted: bool, version: int) -> bool:
    return (deleted, version) > (bool(row_deleted), row_version or 0)


def apply_guest_upsert(values: dict, payload: dict, now: dt.datetime) -> tuple[bool, int, dict]:
    profile = lock_guest(values["id"])
    if not _newer(profile.deleted, profile.version, False, values["version"]):
        return False, profile.guest_id, scrub(payload) if profile.deleted else payload
    for name in GUEST_IDENTITY:
        setattr(profile, name, values.get(name))
    profile.email_key = values["email"].lower()
    profile.version = values["version"]
    recompute(profile, now)
    return True, profile.guest_id, payload


def apply_guest_delete(values: dict, payload: dict, now: dt.datetime) -> tuple[bool, int, dict]:
    profile = lock_guest(values["id"])
    if not _newer(profile.deleted, profile.version, True, values["version"]):
        return False, profile.guest_id, payload
    for name in GUEST_IDENTITY:
        setattr(profile, name, None)
    profile.email_key = None
    profile.deleted = True
    profile.version = values["version"]
    recompute(profile, now)
    erase_guest_events(profile.guest_id)
    return True, profile.guest_id, payload


def _apply_reservation(values: dict, deleted: bool, now: dt.datetime) -> tuple[bool, int]:
    mirror = lock_reservation(values["id"])
    if not _newer(mirror.deleted, mirror.version, deleted, values["version"]):
        return False, values["guest_id"]
    previous_guest = mirror.guest_id
    for name in RESERVATION_FIELDS:
        # A tombstone keeps no data: it must look the same whether or not the live copy came first.
        setattr(mirror, name, None if deleted else values.get(name))
    mirror.guest_id = values["guest_id"]
    mirror.version = values["version"]
    mirror.deleted = deleted
    mirror.updated_at = now
    mirror.save()
    touched = {values["guest_id"]} | ({previous_guest} if previous_guest is not None else set())
    for profile in lock_guests(touched).values():
        recompute(profile, now)
    return True, values["guest_id"]


def apply_reservation_upsert(values: dict, payload: dict, now: dt.datetime) -> tuple[bool, int, dict]:
    applied, guest_id = _apply_reservation(values, False, now)
    return applied, guest_id, payload


def apply_reservation_delete(values: dict, payload: dict, now: dt.datetime) -> tuple[bool, int, dict]:
    applied, guest_id = _apply_reservation(values, True, now)
    return applied, guest_id, payload


APPLIERS = {
    "guest.created": apply_guest_upsert,
    "guest.updated": apply_guest_upsert,
    "guest.deleted": apply_guest_delete,
    "reservation.created": apply_reservation_upsert,
    "reservation.updated": apply_reservation_upsert,
    "reservation.deleted": apply_reservation_delete,
}
