"""The PMS's GraphQL schema: the read API over guests, reservations, endpoints and deliveries."""

from __future__ import annotations

import strawberry

from core.graphql.execution import Schema

from . import deliveries as delivery_fields
from . import guests as guest_fields


@strawberry.type
class Query:
    guest = strawberry.field(resolver=guest_fields.guest, description="One guest, or null.")
    guests = strawberry.field(resolver=guest_fields.guests, description="Guests, newest first.")
    reservation = strawberry.field(resolver=guest_fields.reservation, description="One reservation, or null.")
    reservations = strawberry.field(resolver=guest_fields.reservations, description="Reservations, newest first.")
    endpoints = strawberry.field(
        resolver=delivery_fields.endpoints, description="Every endpoint (destination of webhooks), in id order."
    )
    deliveries = strawberry.field(
        resolver=delivery_fields.deliveries,
        description="Deliveries of events to one endpoint (default 1), newest first.",
    )


schema = Schema(query=Query)
