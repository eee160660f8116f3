"""Guests: create, read, update, delete; each change bumps ``version`` and writes its outbox event."""

from __future__ import annotations

import peewee as pw

from core.contract import GUEST_CREATED, GUEST_DELETED, GUEST_UPDATED
from core.db import is_duplicate_key, utcnow
from core.errors import ConflictError
from core.pagination import PageRequest, paginate

from ..models import Guest, Reservation
from ..outbox import deleted_payload, record_event
from ..sync.tombstones import write_tombstone
from .reservations import delete_reservation_row
from .rows import for_update, get_or_404


def _email_conflict(email: str) -> ConflictError:
    return ConflictError(
        "a guest with this email already exists", [{"field": "email", "message": f"{email} is already taken"}]
    )


def _get(guest_id: int, lock: bool = False) -> Guest:
    return get_or_404(Guest, guest_id, lock)


def get_guest(guest_id: int) -> dict:
    return _get(guest_id).to_api()


def list_guests(page: PageRequest, email: str | None = None) -> tuple[list[dict], str | None]:
    query = Guest.select()
    if email:
        query = query.where(Guest.email_key == email.strip().lower())
    rows, cursor = paginate(query, Guest.id, page)
    return [g.to_api() for g in rows], cursor


def _email_taken(email_key: str, except_id: int | None = None) -> bool:
    query = Guest.select(Guest.id).where(Guest.email_key == email_key)
    if except_id is not None:
        query = query.where(Guest.id != except_id)
    return query.exists()


def create_guest(values: dict) -> dict:
    email_key = values["email"].lower()
    if _email_taken(email_key):
        raise _email_conflict(values["email"])
    now = utcnow()
    try:
        with Guest._meta.database.atomic():
            guest = Guest.create(email_key=email_key, version=1, created_at=now, updated_at=now, **values)
    except pw.IntegrityError as exc:
        if is_duplicate_key(exc):
            raise _email_conflict(values["email"]) from None
        raise
    payload = guest.to_api()
    record_event(GUEST_CREATED, guest.id, 1, payload, now)
    return payload


def update_guest(guest_id: int, values: dict) -> dict:
    guest = _get(guest_id, lock=True)
    changes = {k: v for k, v in values.items() if getattr(guest, k) != v}
    if not changes:
        return guest.to_api()  # nothing changed: no new version, no event
    if "email" in changes:
        email_key = changes["email"].lower()
        if _email_taken(email_key, except_id=guest.id):
            raise _email_conflict(changes["email"])
        changes["email_key"] = email_key
    now = utcnow()
    for key, value in changes.items():
        setattr(guest, key, value)
    guest.version += 1
    guest.updated_at = now
    try:
        with Guest._meta.database.atomic():
            guest.save()
    except pw.IntegrityError as exc:
        if is_duplicate_key(exc):
            raise _email_conflict(changes["email"]) from None
        raise
    payload = guest.to_api()
    record_event(GUEST_UPDATED, guest.id, guest.version, payload, now)
    return payload


def delete_guest(guest_id: int) -> None:
    """Delete the guest's reservations (each with its event), then the guest; each leaves a
    tombstone for reconciliation."""
    guest = _get(guest_id, lock=True)
    now = utcnow()
    reservations = for_update(Reservation.select().where(Reservation.guest == guest.id).order_by(Reservation.id))
    for reservation in reservations:
        delete_reservation_row(reservation, now)
    version = guest.version + 1
    Guest.delete().where(Guest.id == guest.id).execute()
    write_tombstone("guest", guest.id, version, now)
    record_event(GUEST_DELETED, guest.id, version, deleted_payload(guest.id, version, now), now)


def guests_by_ids(guest_ids: list[int]) -> dict[int, dict]:
    """Many guests by id in one query (GraphQL's batched ``reservation.guest``); absent ids are
    left out."""
    if not guest_ids:
        return {}
    return {g.id: g.to_api() for g in Guest.select().where(Guest.id.in_(sorted(set(guest_ids))))}
