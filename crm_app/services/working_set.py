"""The rows one receiver transaction works on: locked once, changed in memory, written once.

A batch of webhooks touches a handful of guests and reservations. ``WorkingSet`` locks them up
front in one statement per table (``SELECT ... FOR UPDATE`` in primary-key order on MySQL, so
concurrent transactions take locks in the same order; SQLite's IMMEDIATE transactions already
serialise writers), lets the convergence rules change the rows in memory, and ``flush()``
writes the changed rows (at most two statements per table), recomputes each touched profile
once from the mirror, inserts the audit rows in one statement and then erases the personal
data of guests deleted in the batch. A row found missing is created in memory and plainly
inserted: nothing locks a missing key, so if another transaction creates the same key
meanwhile, the insert fails with a duplicate key and the caller retries.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import peewee as pw

from core.db import is_mysql

from ..models import Event, GuestProfile, ReservationMirror
from .erasure import erase_guest_events
from .statements import lock_guest_profiles, lock_reservation_mirrors
from .stats import live_reservations_of, refresh


class WorkingSet:
    def __init__(self, now: dt.datetime):
        self.now = now
        self.guests: dict[int, GuestProfile] = {}
        self.mirrors: dict[int, ReservationMirror] = {}
        self.new_guests: set[int] = set()
        self.new_mirrors: set[int] = set()
        self.changed_guests: set[int] = set()
        self.changed_mirrors: set[int] = set()
        self.erased_guests: set[int] = set()
        self.events: list[dict] = []

    # -- locking -------------------------------------------------------------------------------
    def lock_mirrors(self, ids: Iterable[int]) -> None:
        missing = sorted(set(ids) - self.mirrors.keys())
        if not missing:
            return
        for row in lock_reservation_mirrors(missing):
            self.mirrors[row.reservation_id] = row
        for rid in missing:
            if rid not in self.mirrors:
                self.mirrors[rid] = ReservationMirror(reservation_id=rid, version=0, deleted=False, updated_at=self.now)
                self.new_mirrors.add(rid)

    def lock_guests(self, ids: Iterable[int]) -> None:
        missing = sorted(set(ids) - self.guests.keys())
        if not missing:
            return
        for row in lock_guest_profiles(missing):
            self.guests[row.guest_id] = row
        for gid in missing:
            if gid not in self.guests:
                self.guests[gid] = GuestProfile(guest_id=gid, created_at=self.now, updated_at=self.now)
                self.new_guests.add(gid)

    def guest(self, guest_id: int) -> GuestProfile:
        self.lock_guests([guest_id])
        return self.guests[guest_id]

    def mirror(self, reservation_id: int) -> ReservationMirror:
        self.lock_mirrors([reservation_id])
        return self.mirrors[reservation_id]

    # -- changes -------------------------------------------------------------------------------
    def touch_guests(self, *guest_ids: int) -> None:
        self.lock_guests(guest_ids)
        self.changed_guests.update(guest_ids)

    def touch_mirror(self, reservation_id: int) -> None:
        self.changed_mirrors.add(reservation_id)

    def erase(self, guest_id: int) -> None:
        self.erased_guests.add(guest_id)

    def record(self, event: dict) -> None:
        self.events.append(event)

    # -- writing -------------------------------------------------------------------------------
    def flush(self) -> None:
        self._write(ReservationMirror, self.mirrors, self.changed_mirrors, self.new_mirrors)
        if self.changed_guests:
            reservations = live_reservations_of(sorted(self.changed_guests))
            for gid in self.changed_guests:
                refresh(self.guests[gid], reservations[gid], self.now)
        self._write(GuestProfile, self.guests, self.changed_guests, self.new_guests)
        if self.events:
            write_rows(Event, self.events, upsert=False)
        for gid in sorted(self.erased_guests):
            erase_guest_events(gid)

    @staticmethod
    def _write(model, rows: dict, changed: set, new: set) -> None:
        # Rows this transaction found missing are plainly inserted, so that a concurrent
        # creation of the same key fails with a duplicate key instead of being overwritten;
        # rows it holds locked are updated with one upsert.
        if changed & new:
            write_rows(model, [rows[key].__data__ for key in sorted(changed & new)], upsert=False)
        if changed - new:
            write_rows(model, [rows[key].__data__ for key in sorted(changed - new)], upsert=True)


def write_rows(model: type[pw.Model], rows: list[dict], upsert: bool) -> None:
    """One multi-row INSERT of every column but an auto-increment key (absent keys as NULL);
    with ``upsert``, rows whose primary key exists are updated in place instead.

    Hand-built because peewee's ``insert_many`` spends more time composing a large statement
    than the database spends running it, takes its column list from the first row only, and
    cannot express a portable multi-row upsert. The rows written here are locked by the
    caller, so the upsert cannot race.
    """
    database = model._meta.database
    fields = _written_fields(model)
    sql = _insert_sql(model, len(rows), upsert, is_mysql(database), database.param)
    database.execute_sql(sql, [f.db_value(row.get(f.name)) for row in rows for f in fields])


@functools.lru_cache(maxsize=64)
def _written_fields(model: type[pw.Model]) -> list[pw.Field]:
    return [f for f in model._meta.sorted_fields if not isinstance(f, pw.AutoField)]


@functools.lru_cache(maxsize=1024)
def _insert_sql(model: type[pw.Model], count: int, upsert: bool, mysql: bool, param: str) -> str:
    fields = _written_fields(model)
    quote = "``" if mysql else '""'
    names = [f.column_name.join(quote) for f in fields]
    placeholders = "(" + ", ".join([param] * len(fields)) + ")"
    sql = f"INSERT INTO {model._meta.table_name.join(quote)} ({', '.join(names)}) VALUES " + ", ".join(
        [placeholders] * count
    )
    if upsert:
        pk = model._meta.primary_key
        others = [name for f, name in zip(fields, names, strict=True) if f is not pk]
        if mysql:
            sql += " ON DUPLICATE KEY UPDATE " + ", ".join(f"{n} = VALUES({n})" for n in others)
        else:
            sql += f" ON CONFLICT ({pk.column_name.join(quote)}) DO UPDATE SET " + ", ".join(
                f"{n} = excluded.{n}" for n in others
            )
    return sql
