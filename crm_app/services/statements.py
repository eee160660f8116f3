"""The receiver's reads as plain SQL (the statements are in ``receiver.sql``).

One batch runs each of these once; written with peewee's query builder, composing them cost
more CPU than the database spent running them. Errors are peewee's, as from any query.
"""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

from core.sql import Statements, model_rows

from ..models import GuestProfile, ReservationMirror, db

STATEMENTS = Statements(Path(__file__).with_name("receiver.sql"))

# One class for every batch (peewee's ``namedtuples()`` builds a new one per query).
LiveReservation = namedtuple("LiveReservation", "guest_id check_in check_out status total_amount currency")
_LIVE_FIELDS = [ReservationMirror._meta.columns[name] for name in LiveReservation._fields]


def recorded_webhook_ids(webhook_ids: list[str]) -> set[str]:
    """Those of ``webhook_ids`` the audit log already holds."""
    if not webhook_ids:
        return set()
    cursor = STATEMENTS.execute(db, "recorded_webhook_ids", webhook_ids, ids=len(webhook_ids))
    return {row[0] for row in cursor.fetchall()}


def lock_guest_profiles(guest_ids: list[int]) -> list[GuestProfile]:
    """The existing profiles of ``guest_ids`` (sorted), locked until the transaction ends."""
    cursor = STATEMENTS.execute(db, "lock_guest_profiles", guest_ids, ids=len(guest_ids))
    return model_rows(GuestProfile, cursor)


def lock_reservation_mirrors(reservation_ids: list[int]) -> list[ReservationMirror]:
    """The existing mirror rows of ``reservation_ids`` (sorted), locked until the transaction ends."""
    cursor = STATEMENTS.execute(db, "lock_reservation_mirrors", reservation_ids, ids=len(reservation_ids))
    return model_rows(ReservationMirror, cursor)


def live_reservations(guest_ids: list[int]) -> list[LiveReservation]:
    """The live, seen reservations of ``guest_ids``, as the stats read them."""
    cursor = STATEMENTS.execute(db, "live_reservations", guest_ids, ids=len(guest_ids))
    fields = _LIVE_FIELDS
    return [
        LiveReservation(*[f.python_value(v) for f, v in zip(fields, values, strict=True)])
        for values in cursor.fetchall()
    ]
