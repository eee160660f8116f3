"""``/reservations`` and ``/reservations/:id``: thin handlers over ``services.reservations``."""

from __future__ import annotations

from core.contract import RESERVATION_STATUSES

from ..services import reservations
from .base import PmsHandler


class ReservationsHandler(PmsHandler):
    route_name = "reservations"

    async def get(self) -> None:
        page = self.page_request()
        guest_id = self.int_argument("guest_id")
        status = self.choice_argument("status", RESERVATION_STATUSES)
        rows, cursor = await self.store.run(reservations.list_reservations, page, guest_id, status)
        self.write_list(rows, cursor)

    async def post(self) -> None:
        body = self.json_body()
        self.write_data(await self.write_change(reservations.create_reservation, body), 201)


class ReservationHandler(PmsHandler):
    route_name = "reservation"

    async def get(self, reservation_id: str) -> None:
        self.write_data(await self.store.run(reservations.get_reservation, self.path_id(reservation_id)))

    async def put(self, reservation_id: str) -> None:
        body = self.json_body()
        self.write_data(await self.write_change(reservations.update_reservation, self.path_id(reservation_id), body))

    async def delete(self, reservation_id: str) -> None:
        await self.write_change(reservations.delete_reservation, self.path_id(reservation_id))
        self.set_status(204)
        self.finish()


default_handlers = [
    (r"/reservations", ReservationsHandler),
    (r"/reservations/([0-9]+)", ReservationHandler),
]
