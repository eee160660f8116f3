"""GraphQL subscriptions of the CRM, fed by the receiver's committed changes (``ChangeFeed``)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from core.graphql.relay import from_row

from ..changes import ChangeFeed
from .events import Event
from .profiles import GuestProfile, profile_from_row


@strawberry.type
class ProfileChange:
    guest_id: int
    profile: GuestProfile | None = strawberry.field(
        description="The profile after the change; null once the guest was erased."
    )


def _feed(info: strawberry.Info) -> ChangeFeed:
    return info.context.settings["change_feed"]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each event the receiver records (of these types, if given), once it committed."
    )
    async def event_recorded(
        self, info: strawberry.Info, types: list[str] | None = None
    ) -> AsyncGenerator[Event, None]:
        async for row in _feed(info).events(types, info.context.drop_client):
            yield from_row(Event, row)

    @strawberry.subscription(
        description="Each change an applied event made to a profile (of this guest, if given), once it committed."
    )
    async def profile_changed(
        self, info: strawberry.Info, guest_id: int | None = None
    ) -> AsyncGenerator[ProfileChange, None]:
        async for change in _feed(info).profile_changes(guest_id, info.context.drop_client):
            profile = change["profile"]
            yield ProfileChange(guest_id=change["guest_id"], profile=profile_from_row(profile) if profile else None)
