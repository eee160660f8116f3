"""``/guests`` and ``/guests/:id``: thin handlers over ``services.guests``."""

from __future__ import annotations

from ..services import guests
from ..validation import validate_guest
from .base import PmsHandler


class GuestsHandler(PmsHandler):
    route_name = "guests"

    async def get(self) -> None:
        page = self.page_request()
        rows, cursor = await self.store.run(guests.list_guests, page, self.get_argument("email", None))
        self.write_list(rows, cursor)

    async def post(self) -> None:
        values = validate_guest(self.json_body())
        self.write_data(await self.write_change(guests.create_guest, values), 201)


class GuestHandler(PmsHandler):
    route_name = "guest"

    async def get(self, guest_id: str) -> None:
        self.write_data(await self.store.run(guests.get_guest, self.path_id(guest_id)))

    async def put(self, guest_id: str) -> None:
        values = validate_guest(self.json_body(), partial=True)
        self.write_data(await self.write_change(guests.update_guest, self.path_id(guest_id), values))

    async def delete(self, guest_id: str) -> None:
        await self.write_change(guests.delete_guest, self.path_id(guest_id))
        self.set_status(204)
        self.finish()


default_handlers = [
    (r"/guests", GuestsHandler),
    (r"/guests/([0-9]+)", GuestHandler),
]
