"""Creating-if-absent and locking the one row the CRM keeps per guest and per reservation.

``INSERT ... ON DUPLICATE KEY UPDATE pk = pk`` both creates a missing row and takes its
exclusive lock in one statement on MySQL/MariaDB (``INSERT IGNORE`` followed by ``SELECT ...
FOR UPDATE`` would take a shared lock first and deadlock two concurrent writers on the
upgrade). SQLite's IMMEDIATE transactions already serialise writers, so ``INSERT OR IGNORE``
is enough there. Callers lock a reservation before its guests, and guests in ascending id
order, so two units of work never wait on each other in a cycle.
"""

from __future__ import annotations

from typing import Iterable

from core.db import is_mysql, utcnow

from ..models import GuestProfile, ReservationMirror


def _ensure(model, pk_field, defaults: dict):
    query = model.insert(**defaults)
    if is_mysql(model._meta.database):
        query = query.on_conflict(preserve=[pk_field])
    else:
        query = query.on_conflict_ignore()
    query.execute()


def lock_guest(guest_id: int) -> GuestProfile:
    now = utcnow()
    _ensure(GuestProfile, GuestProfile.guest_id,
            {"guest_id": guest_id, "created_at": now, "updated_at": now})
    return GuestProfile.get_by_id(guest_id)


def lock_guests(guest_ids: Iterable[int]) -> dict[int, GuestProfile]:
    return {guest_id: lock_guest(guest_id) for guest_id in sorted(set(guest_ids))}


def lock_reservation(reservation_id: int) -> ReservationMirror:
    _ensure(ReservationMirror, ReservationMirror.reservation_id,
            {"reservation_id": reservation_id, "version": 0, "updated_at": utcnow()})
    return ReservationMirror.get_by_id(reservation_id)
