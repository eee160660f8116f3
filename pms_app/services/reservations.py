"""Reservations: create, read, update, delete, each with its outbox event and version bump."""

from __future__ import annotations

import datetime as dt

from core.contract import MAX_ID, RESERVATION_CREATED, RESERVATION_DELETED, RESERVATION_UPDATED
from core.db import utcnow
from core.errors import ValidationError
from core.pagination import PageRequest, paginate, paginate_per_parent

from ..models import Guest, Reservation
from ..outbox import deleted_payload, record_event
from ..sync.tombstones import write_tombstone
from ..validation import validate_reservation
from .rows import for_update, get_or_404


def _get(reservation_id: int, lock: bool = False) -> Reservation:
    return get_or_404(Reservation, reservation_id, lock)


def _require_guest(guest_id: int) -> None:
    # Lock the guest row so a concurrent guest delete cannot strand this reservation.
    if guest_id > MAX_ID or for_update(Guest.select(Guest.id).where(Guest.id == guest_id)).first() is None:
        raise ValidationError.single("guest_id", f"no guest with id {guest_id}")


def get_reservation(reservation_id: int) -> dict:
    return _get(reservation_id).to_api()


def list_reservations(
    page: PageRequest, guest_id: int | None = None, status: str | None = None
) -> tuple[list[dict], str | None]:
    query = Reservation.select()
    if guest_id is not None:
        query = query.where(Reservation.guest == guest_id)
    if status is not None:
        query = query.where(Reservation.status == status)
    rows, cursor = paginate(query, Reservation.id, page)
    return [r.to_api() for r in rows], cursor


def create_reservation(data: dict) -> dict:
    values = validate_reservation(data)
    _require_guest(values["guest_id"])
    now = utcnow()
    values["guest"] = values.pop("guest_id")
    reservation = Reservation.create(version=1, created_at=now, updated_at=now, **values)
    reservation = _get(reservation.id)  # re-read for stored (rounded, defaulted) values
    payload = reservation.to_api()
    record_event(RESERVATION_CREATED, reservation.id, 1, payload, now)
    return payload


def _current_values(reservation: Reservation) -> dict:
    return {"check_in": reservation.check_in, "check_out": reservation.check_out}


def update_reservation(reservation_id: int, data: dict) -> dict:
    reservation = _get(reservation_id, lock=True)
    values = validate_reservation(data, current=_current_values(reservation))
    if "guest_id" in values and values["guest_id"] != reservation.guest_id:
        _require_guest(values["guest_id"])
    field_values = {("guest" if k == "guest_id" else k): v for k, v in values.items()}
    changes = {
        k: v
        for k, v in field_values.items()
        if (reservation.guest_id if k == "guest" else getattr(reservation, k)) != v
    }
    if not changes:
        return reservation.to_api()
    now = utcnow()
    for key, value in changes.items():
        setattr(reservation, key, value)
    reservation.version += 1
    reservation.updated_at = now
    reservation.save()
    payload = _get(reservation.id).to_api()
    record_event(RESERVATION_UPDATED, reservation.id, reservation.version, payload, now)
    return payload


def delete_reservation_row(reservation: Reservation, now: dt.datetime) -> None:
    """Delete one (already locked) reservation, leaving its tombstone, and queue its
    ``reservation.deleted`` event."""
    version = reservation.version + 1
    Reservation.delete().where(Reservation.id == reservation.id).execute()
    write_tombstone("reservation", reservation.id, version, now, guest_id=reservation.guest_id)
    record_event(
        RESERVATION_DELETED,
        reservation.id,
        version,
        deleted_payload(reservation.id, version, now, guest_id=reservation.guest_id),
        now,
    )


def delete_reservation(reservation_id: int) -> None:
    delete_reservation_row(_get(reservation_id, lock=True), utcnow())


def reservations_of_guests(guest_ids: list[int], page: PageRequest) -> dict[int, tuple[list[dict], str | None]]:
    """The same page of reservations as ``list_reservations(page, guest_id)``, for many guests
    in one query (GraphQL's ``guest.reservations``)."""
    pages = paginate_per_parent(Reservation.select(), Reservation.guest, Reservation.id, guest_ids, page)
    return {guest_id: ([r.to_api() for r in rows], cursor) for guest_id, (rows, cursor) in pages.items()}
