"""GraphQL guest profiles: the types, ``guestProfile(guestId)`` and ``guestProfiles(...)``,
over ``services.profiles``; a profile's ``events`` are batch-loaded."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from core.errors import NotFoundError, ValidationError
from core.graphql.arguments import choice, found_id
from core.graphql.relay import Connection, connection, from_row, page_request

from ..models import TIERS
from ..services import profiles as profile_service
from .events import Event, events_of_guest


@strawberry.type
class ProfileStats:
    total_reservations: int
    active_reservations: int
    cancelled_reservations: int
    total_nights: int
    average_nights: float
    lifetime_value: JSON = strawberry.field(description='Decimal strings by currency: {"USD": "480.00"}.')
    first_check_in: str | None
    last_check_out: str | None
    next_check_in: str | None


@strawberry.type
class GuestProfile:
    guest_id: int
    email: str | None
    name: str | None
    phone: str | None
    date_of_birth: str | None
    country: str | None
    version: int | None
    stats: ProfileStats
    tier: str
    sources: list[str]
    updated_at: str | None

    @strawberry.field(description="The audit-log events about this guest, newest first.")
    async def events(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Event]:
        return await events_of_guest(info.context, self.guest_id, page_request(first, after))


def profile_from_row(row: dict) -> GuestProfile:
    return from_row(GuestProfile, {**row, "stats": from_row(ProfileStats, row["stats"])})


async def guest_profile(info: strawberry.Info, guest_id: int) -> GuestProfile | None:
    if not found_id(guest_id):
        return None
    try:
        return profile_from_row(await info.context.run(profile_service.get_profile, guest_id))
    except NotFoundError:
        return None


async def guest_profiles(
    info: strawberry.Info,
    first: int | None = None,
    after: str | None = None,
    email: str | None = None,
    q: str | None = None,
    tier: str | None = None,
) -> Connection[GuestProfile] | None:
    page = page_request(first, after)
    if q is not None and len(q) > 200:
        raise ValidationError.single("q", "must be at most 200 characters")
    tier = choice("tier", tier, TIERS)
    rows, cursor = await info.context.run(profile_service.list_profiles, page, email or None, q or None, tier)
    return connection(rows, cursor, page, "guest_id", profile_from_row)
