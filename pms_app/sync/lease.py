"""The database lease that lets one process at a time reconcile, and the schedule it keeps.

One ``sync_lease`` row per name. Taking the lease is a single conditional UPDATE (free, or
expired) whose row count says who won: the database serialises concurrent takers, so two
workers can never both win, on SQLite or MySQL/MariaDB. The holder renews it while it works; a
holder that died simply stops renewing, and after ``lease_until`` the next taker gets it and
closes the dead holder's unfinished runs. The row also holds ``next_due_at``, so the schedule
is shared by every worker: whoever takes the lease when the run is due runs it, and moves the
due time on when it releases the lease.

Every function takes ``now``, so tests drive the clock.
"""

from __future__ import annotations

import datetime as dt

from .models import SyncLease
from .runs import abandon_running

RECONCILE = "reconcile"
# How long a lease lasts without renewal; holders renew it well before (see schedule.py).
LEASE_SECONDS = 120


def _ensure(name: str) -> None:
    # Only the very first taker inserts; an INSERT on every take would lock the existing row in
    # shared mode first and make two concurrent takers deadlock on MySQL.
    if not SyncLease.select().where(SyncLease.name == name).exists():
        SyncLease.insert(name=name).on_conflict_ignore().execute()


def acquire(
    holder: str, now: dt.datetime, lease_seconds: float = LEASE_SECONDS, due_only: bool = False, name: str = RECONCILE
) -> bool:
    """Take the lease if it is free or expired (and, with ``due_only``, the schedule is due)."""
    _ensure(name)
    free = SyncLease.lease_until.is_null() | (SyncLease.lease_until < now)
    condition = (SyncLease.name == name) & free
    if due_only:
        condition &= SyncLease.next_due_at.is_null(False) & (SyncLease.next_due_at <= now)
    taken = (
        SyncLease.update(holder=holder, lease_until=now + dt.timedelta(seconds=lease_seconds))
        .where(condition)
        .execute()
    )
    if taken:
        abandon_running()
    return bool(taken)


def renew(holder: str, now: dt.datetime, lease_seconds: float = LEASE_SECONDS, name: str = RECONCILE) -> bool:
    """Extend the lease; ``False`` if another process took it over meanwhile."""
    return bool(
        SyncLease.update(lease_until=now + dt.timedelta(seconds=lease_seconds))
        .where((SyncLease.name == name) & (SyncLease.holder == holder))
        .execute()
    )


def release(holder: str, next_due_at: dt.datetime | None = None, name: str = RECONCILE) -> None:
    """Give the lease back (and, after a scheduled run, set when the next one is due)."""
    values = {SyncLease.holder: None, SyncLease.lease_until: None}
    if next_due_at is not None:
        values[SyncLease.next_due_at] = next_due_at
    SyncLease.update(values).where((SyncLease.name == name) & (SyncLease.holder == holder)).execute()


def keep_schedule(now: dt.datetime, every_seconds: int, name: str = RECONCILE) -> None:
    """Start the schedule (the first run is due one period from now) and pull in a due time
    further away than one period, so shortening ``RECONCILE_EVERY_SECONDS`` takes effect."""
    _ensure(name)
    due = now + dt.timedelta(seconds=every_seconds)
    (
        SyncLease.update(next_due_at=due)
        .where((SyncLease.name == name) & (SyncLease.next_due_at.is_null() | (SyncLease.next_due_at > due)))
        .execute()
    )


def holder_of(name: str = RECONCILE) -> tuple[str | None, dt.datetime | None]:
    lease = SyncLease.get_or_none(SyncLease.name == name)
    return (lease.holder, lease.lease_until) if lease else (None, None)
