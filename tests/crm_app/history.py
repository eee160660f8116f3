"""A small PMS simulator that produces a realistic, versioned history of webhook events.

Guests are created, updated and deleted (a guest delete first deletes its reservations, as
the PMS does); reservations are created, updated (dates, amounts, currency, status), cancelled,
moved to another guest and deleted. Every change carries the entity's next version, exactly
like the PMS outbox.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from crm_app.validation import Incoming, parse_webhook

from .webhook_factory import deleted, envelope, guest, reservation

BASE_DAY = dt.date(2026, 6, 1)


class PmsSimulator:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.guests: dict[int, dict] = {}
        self.reservations: dict[int, dict] = {}
        self.next_guest = 1
        self.next_reservation = 1
        self.events: list[Incoming] = []

    def emit(self, event_type: str, payload: dict) -> None:
        webhook_id, body = envelope(event_type, dict(payload), str(uuid.UUID(int=self.rng.getrandbits(128))))
        self.events.append(parse_webhook(body, webhook_id))

    def create_guest(self) -> None:
        gid = self.next_guest
        self.next_guest += 1
        self.guests[gid] = guest(gid, 1, name=f"Guest {gid} {self.rng.choice(['Ann', 'Bo', 'Cy'])}")
        self.emit("guest.created", self.guests[gid])

    def update_guest(self, gid: int) -> None:
        g = self.guests[gid]
        g.update(
            version=g["version"] + 1,
            name=f"Guest {gid} v{g['version'] + 1}",
            phone=self.rng.choice([None, "+351210000000", "+14155550100"]),
        )
        self.emit("guest.updated", g)

    def delete_guest(self, gid: int) -> None:
        for rid in [r for r, res in self.reservations.items() if res["guest_id"] == gid]:
            self.delete_reservation(rid)
        g = self.guests.pop(gid)
        self.emit("guest.deleted", deleted(gid, g["version"] + 1))

    def create_reservation(self, gid: int) -> None:
        rid = self.next_reservation
        self.next_reservation += 1
        check_in = BASE_DAY + dt.timedelta(days=self.rng.randrange(-200, 200))
        nights = self.rng.randrange(1, 9)
        self.reservations[rid] = reservation(
            rid,
            gid,
            1,
            check_in=check_in.isoformat(),
            check_out=(check_in + dt.timedelta(days=nights)).isoformat(),
            total_amount=f"{self.rng.randrange(50, 2000)}.{self.rng.randrange(100):02d}",
            currency=self.rng.choice(["USD", "USD", "EUR"]),
        )
        self.emit("reservation.created", self.reservations[rid])

    def update_reservation(self, rid: int) -> None:
        r = self.reservations[rid]
        change = self.rng.choice(["dates", "amount", "cancel", "move", "status"])
        if change == "dates":
            check_in = dt.date.fromisoformat(r["check_in"]) + dt.timedelta(days=self.rng.randrange(-5, 6))
            r.update(
                check_in=check_in.isoformat(),
                check_out=(check_in + dt.timedelta(days=self.rng.randrange(1, 15))).isoformat(),
            )
        elif change == "amount":
            r.update(total_amount=f"{self.rng.randrange(0, 3000)}.50", currency=self.rng.choice(["USD", "EUR", "GBP"]))
        elif change == "cancel":
            r.update(status="cancelled")
        elif change == "status":
            r.update(status=self.rng.choice(["confirmed", "checked_in", "checked_out"]))
        elif change == "move" and len(self.guests) > 1:
            r.update(guest_id=self.rng.choice([g for g in self.guests if g != r["guest_id"]]))
        r["version"] += 1
        self.emit("reservation.updated", r)

    def delete_reservation(self, rid: int) -> None:
        r = self.reservations.pop(rid)
        self.emit("reservation.deleted", deleted(rid, r["version"] + 1, guest_id=r["guest_id"]))

    def run(self, steps: int) -> list[Incoming]:
        for _ in range(3):
            self.create_guest()
        for _ in range(steps):
            roll = self.rng.random()
            if roll < 0.12 or not self.guests:
                self.create_guest()
            elif roll < 0.22:
                self.update_guest(self.rng.choice(list(self.guests)))
            elif roll < 0.50:
                self.create_reservation(self.rng.choice(list(self.guests)))
            elif roll < 0.80 and self.reservations:
                self.update_reservation(self.rng.choice(list(self.reservations)))
            elif roll < 0.90 and self.reservations:
                self.delete_reservation(self.rng.choice(list(self.reservations)))
            elif roll < 0.96 and len(self.guests) > 2:
                self.delete_guest(self.rng.choice(list(self.guests)))
        return self.events


def history(seed: int, steps: int) -> list[Incoming]:
    return PmsSimulator(random.Random(seed)).run(steps)
