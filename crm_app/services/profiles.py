"""Reading guest profiles: ``GET /guest-profiles`` (filters, keyset pages) and one by guest id."""

from __future__ import annotations

import datetime as dt

import peewee as pw

from core.contract import MAX_ID
from core.db import iso
from core.errors import NotFoundError
from core.pagination import PageRequest, paginate

from ..models import GuestProfile
from .stats import dated_stats

SOURCES = ["pms"]


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def profile_to_api(profile: GuestProfile, dated: dict) -> dict:
    total = profile.total_reservations
    return {
        "guest_id": profile.guest_id,
        "email": profile.email,
        "name": profile.name,
        "phone": profile.phone,
        "date_of_birth": iso(profile.date_of_birth),
        "country": profile.country,
        "version": profile.version,
        "stats": {
            "total_reservations": total,
            "active_reservations": dated["active_reservations"],
            "cancelled_reservations": profile.cancelled_reservations,
            "total_nights": profile.total_nights,
            "average_nights": round(profile.total_nights / total, 2) if total else 0,
            "lifetime_value": profile.lifetime_value or {},
            "first_check_in": iso(profile.first_check_in),
            "last_check_out": iso(profile.last_check_out),
            "next_check_in": iso(dated["next_check_in"]),
        },
        "tier": profile.tier,
        "sources": list(SOURCES),
        "updated_at": iso(profile.updated_at),
    }


def _render(profiles: list[GuestProfile], today: dt.date | None) -> list[dict]:
    dated = dated_stats([p.guest_id for p in profiles], today or today_utc())
    return [profile_to_api(p, dated[p.guest_id]) for p in profiles]


def get_profile(guest_id: int, today: dt.date | None = None) -> dict:
    profile = None
    if guest_id <= MAX_ID:
        profile = GuestProfile.get_or_none((GuestProfile.guest_id == guest_id) & (GuestProfile.listed == True))  # noqa: E712
    if profile is None:
        raise NotFoundError(f"no profile for guest {guest_id}")
    return _render([profile], today)[0]


def _contains(field: pw.Field, text: str) -> pw.Expression:
    # LOWER on both sides: case-insensitive on every backend and collation.
    return pw.fn.LOWER(field).contains(text.lower())


def list_profiles(
    page: PageRequest,
    email: str | None = None,
    q: str | None = None,
    tier: str | None = None,
    today: dt.date | None = None,
) -> tuple[list[dict], str | None]:
    query = GuestProfile.select().where(GuestProfile.listed == True)  # noqa: E712
    if email:
        query = query.where(GuestProfile.email_key == email.strip().lower())
    if q:
        query = query.where(_contains(GuestProfile.name, q) | _contains(GuestProfile.email, q))
    if tier:
        query = query.where(GuestProfile.tier == tier)
    rows, cursor = paginate(query, GuestProfile.guest_id, page)
    return _render(rows, today), cursor


def profiles_of_guests(guest_ids: list[int], today: dt.date | None = None) -> dict[int, dict]:
    """The listed profiles among ``guest_ids`` (an erased or unknown guest is simply absent)."""
    if not guest_ids:
        return {}
    listed = GuestProfile.listed == True  # noqa: E712 - a SQL condition, not a Python comparison
    rows = list(GuestProfile.select().where(GuestProfile.guest_id.in_(sorted(set(guest_ids))) & listed))
    return {profile["guest_id"]: profile for profile in _render(rows, today)}
