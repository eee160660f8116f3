"""Guest profile stats, always recomputed from the CRM's mirror of the guest's reservations.

Stored stats (counts, nights, lifetime value, first/last stay, tier) are a pure function of
the live mirror rows, so updates, cancellations, moves and deletes are reflected exactly and
the result does not depend on the order events arrived in. ``active_reservations`` and
``next_check_in`` depend on today's date and are computed when a profile is read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from core.contract import CANCELLED, NEW, RETURNING, VIP

from ..models import GuestProfile, ReservationMirror
from .statements import live_reservations

VIP_RESERVATIONS, VIP_NIGHTS, RETURNING_RESERVATIONS = 10, 30, 2


def tier_for(reservations: int, nights: int) -> str:
    if reservations >= VIP_RESERVATIONS or nights >= VIP_NIGHTS:
        return VIP
    if reservations >= RETURNING_RESERVATIONS:
        return RETURNING
    return NEW


def live_reservations_of(guest_ids: list[int]) -> dict[int, list]:
    """The live (not deleted) mirror rows of each guest, in one query (only what stats read)."""
    grouped: dict[int, list] = {gid: [] for gid in guest_ids}
    if guest_ids:
        for row in live_reservations(guest_ids):
            grouped[row.guest_id].append(row)
    return grouped


def stored_stats(reservations: Iterable) -> dict:
    """The stats columns of a profile from its live reservations."""
    kept, cancelled = [], 0
    for r in reservations:
        if r.status == CANCELLED:
            cancelled += 1
        else:
            kept.append(r)
    nights = sum((r.check_out - r.check_in).days for r in kept)
    value: dict[str, Decimal] = defaultdict(Decimal)
    for r in kept:
        value[r.currency] += Decimal(r.total_amount)
    return {
        "total_reservations": len(kept),
        "cancelled_reservations": cancelled,
        "total_nights": nights,
        "lifetime_value": {cur: f"{amount:.2f}" for cur, amount in sorted(value.items())},
        "first_check_in": min((r.check_in for r in kept), default=None),
        "last_check_out": max((r.check_out for r in kept), default=None),
        "tier": tier_for(len(kept), nights),
    }


def refresh(profile: GuestProfile, reservations: list, now: dt.datetime) -> None:
    """Set a profile's stored stats and visibility from its live reservations (not saved here)."""
    for name, value in stored_stats(reservations).items():
        setattr(profile, name, value)
    profile.listed = not profile.deleted and (profile.version is not None or bool(reservations))
    profile.updated_at = now


def dated_stats(guest_ids: list[int], today: dt.date) -> dict[int, dict]:
    """``active_reservations`` and ``next_check_in`` of each guest as of ``today``."""
    result = {gid: {"active_reservations": 0, "next_check_in": None} for gid in guest_ids}
    if not guest_ids:
        return result
    query = ReservationMirror.select(
        ReservationMirror.guest_id, ReservationMirror.check_in, ReservationMirror.check_out
    ).where(
        ReservationMirror.guest_id.in_(guest_ids)
        & (ReservationMirror.deleted == False)  # noqa: E712
        & (ReservationMirror.version > 0)
        & (ReservationMirror.status != CANCELLED)
        & (ReservationMirror.check_out >= today)
    )
    for r in query:
        entry = result[r.guest_id]
        entry["active_reservations"] += 1
        if r.check_in >= today and (entry["next_check_in"] is None or r.check_in < entry["next_check_in"]):
            entry["next_check_in"] = r.check_in
    return result
