"""GraphQL guests and reservations: types and resolvers over ``services.guests`` and
``services.reservations`` (a guest's reservations and a reservation's guest are batch-loaded:
one query per request for each, whatever the number of parents)."""

from __future__ import annotations

import strawberry

from core.contract import RESERVATION_STATUSES
from core.errors import NotFoundError
from core.graphql.arguments import choice, found_id
from core.graphql.context import Context
from core.graphql.relay import Connection, connection, from_row, page_request
from core.pagination import PageRequest

from ..services import guests as guest_service
from ..services import reservations as reservation_service


@strawberry.type
class Reservation:
    id: int
    guest_id: int
    room_number: str | None
    room_type: str | None
    check_in: str
    check_out: str
    status: str
    total_amount: str = strawberry.field(description="Decimal string, as in the REST API.")
    currency: str
    adults: int
    children: int
    notes: str | None
    version: int
    created_at: str
    updated_at: str

    @strawberry.field(description="The guest who made the reservation.")
    async def guest(self, info: strawberry.Info) -> Guest | None:
        row = await _guests_loader(info.context).load(self.guest_id)
        return from_row(Guest, row) if row else None


def _guests_loader(context: Context):
    async def load(guest_ids: list[int]) -> list[dict | None]:
        found = await context.run(guest_service.guests_by_ids, guest_ids)
        return [found.get(guest_id) for guest_id in guest_ids]

    return context.loader("reservation.guest", load)


def _reservations(rows: list[dict], cursor: str | None, page: PageRequest) -> Connection[Reservation]:
    return connection(rows, cursor, page, "id", lambda row: from_row(Reservation, row))


def _reservations_loader(context: Context):
    async def load(keys: list[tuple[int, PageRequest]]) -> list:
        # Keys share their page almost always (one field, one set of arguments): one query each.
        found: dict[tuple[int, PageRequest], tuple] = {}
        for page in {page for _, page in keys}:
            guest_ids = [guest_id for guest_id, p in keys if p == page]
            pages = await context.run(reservation_service.reservations_of_guests, guest_ids, page)
            found.update({(guest_id, page): pages[guest_id] for guest_id in guest_ids})
        return [found[key] for key in keys]

    return context.loader("guest.reservations", load)


@strawberry.type
class Guest:
    id: int
    email: str
    name: str
    phone: str | None
    date_of_birth: str | None
    country: str | None
    version: int
    created_at: str
    updated_at: str

    @strawberry.field(description="The guest's reservations, newest first.")
    async def reservations(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Reservation]:
        page = page_request(first, after)
        rows, cursor = await _reservations_loader(info.context).load((self.id, page))
        return _reservations(rows, cursor, page)


async def _one(context: Context, fn, entity_id: int):
    if not found_id(entity_id):
        return None
    try:
        return await context.run(fn, entity_id)
    except NotFoundError:
        return None


async def guest(info: strawberry.Info, id: int) -> Guest | None:
    row = await _one(info.context, guest_service.get_guest, id)
    return from_row(Guest, row) if row else None


async def guests(
    info: strawberry.Info, first: int | None = None, after: str | None = None, email: str | None = None
) -> Connection[Guest] | None:
    page = page_request(first, after)
    rows, cursor = await info.context.run(guest_service.list_guests, page, email or None)
    return connection(rows, cursor, page, "id", lambda row: from_row(Guest, row))


async def reservation(info: strawberry.Info, id: int) -> Reservation | None:
    row = await _one(info.context, reservation_service.get_reservation, id)
    return from_row(Reservation, row) if row else None


async def reservations(
    info: strawberry.Info,
    first: int | None = None,
    after: str | None = None,
    guest_id: int | None = None,
    status: str | None = None,
) -> Connection[Reservation] | None:
    page = page_request(first, after)
    status = choice("status", status, RESERVATION_STATUSES)
    if guest_id is not None and not found_id(guest_id):
        return _reservations([], None, page)
    rows, cursor = await info.context.run(reservation_service.list_reservations, page, guest_id, status)
    return _reservations(rows, cursor, page)
