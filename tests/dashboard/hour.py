"""A realistic hour at a hotel, made through the real PMS, CRM, delivery worker and dashboard,
for the screenshots of every page.

Operators create two endpoints through the dashboard: ``loyalty`` (guest events; its receiver
is down for its first ``BREAKER_THRESHOLD`` requests, answering 503) and ``analytics``
(reservation events; its receiver answers 410 Gone, so the worker disables it). Guests and
reservations are created and changed through the PMS API and a delivery worker sends them: the
CRM applies them (its events and profiles), loyalty's first deliveries give up and its breaker
opens and closes again, analytics is disabled after its first answer. What the worker did is
then spread over the last hour so the chart has minutes to show. Afterwards: CRM deliveries
that gave up (written like the other triage tests do), one of them replayed by an operator and
delivered by the worker, an old pending delivery, a change the CRM never got that a real
reconciliation run finds and repairs, and two kinds of rejected webhooks at the CRM.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from core.db import utcnow
from crm_app.models import Event as CrmEvent
from crm_app.models import GuestProfile
from pms_app.delivery.models import BreakerTransition
from pms_app.delivery.worker import DeliveryWorker
from pms_app.endpoints.models import Endpoint
from pms_app.models import DELIVERING, PENDING, Delivery, DeliveryAttempt, OutboxEvent
from pms_app.notifications.models import Notification
from pms_app.sync.service import reconcile
from tests.support.delivery import FAST, delivery_settings
from tests.support.http import call, json_of
from tests.support.receivers import Receiver, Reply, always, wait_for
from tests.support.sync import crm_side, lose

from .stack import Stack
from .support import Visitor

GUESTS = [
    ("Ann Example", "ann@example.com", "GB"),
    ("Bruno Díaz", "bruno.diaz@example.org", "ES"),
    ("Chen Wei", "chen.wei@example.net", "CN"),
    ("Dana O'Neil", "dana@example.com", "IE"),
    ("Emil Novák", "emil.novak@example.cz", "CZ"),
    ("Fatima Haddad", "fatima@example.com", "MA"),
]
ROOMS = [
    ("101", "double", "320.00"),
    ("214", "suite", "890.50"),
    ("305", "single", "145.00"),
    ("118", "double", "410.00"),
    ("402", "family", "760.00"),
    ("220", "double", "275.00"),
]
# loyalty's outage: this many refused requests in a row, which is also what opens its breaker
BREAKER_THRESHOLD = 15


@dataclass
class Hour:
    """The ids the pages of the hour link to."""

    guests: list[int]
    failed: str  # a CRM delivery that gave up and still waits
    replayed: str  # a CRM delivery that gave up, was replayed by an operator and delivered
    crm_event: int  # a CRM event
    warned: int  # the guest whose profile warns of a failed delivery
    loyalty: int
    analytics: int


def fail_first(n: int):
    """A receiver that answers 503 to its first ``n`` requests, then accepts."""
    return lambda i, request: Reply(status=503, body=b'{"error": "maintenance"}') if i < n else Reply()


def _settled(stack: Stack) -> bool:
    """Nothing left to send to an enabled endpoint, and analytics disabled by its 410 answer."""

    def read() -> bool:
        enabled = Endpoint.select(Endpoint.id).where(Endpoint.enabled == True)  # noqa: E712 - SQL
        waiting = (
            Delivery.select()
            .where(Delivery.status.in_((PENDING, DELIVERING)) & Delivery.endpoint_id.in_(enabled))
            .count()
        )
        gone = Endpoint.select().where(Endpoint.disabled_reason == "gone").count()
        return waiting == 0 and gone == 1

    return stack.pms_store.call(read)


async def _deliver_everything(stack: Stack) -> None:
    """Run a delivery worker until every enabled endpoint's deliveries are settled."""
    # One delivery at a time, so which requests the outage refuses is always the same.
    settings = delivery_settings(
        stack.crm_url + "/api/v1/webhooks/pms",
        retry_schedule=(0, 0),
        breaker_failure_threshold=BREAKER_THRESHOLD,
        breaker_recovery_seconds=1,
        delivery_concurrency=1,
    )
    worker = DeliveryWorker(settings, stack.pms_store, timing=FAST).start()
    try:
        await wait_for(lambda: _settled(stack), timeout=30.0, message="every delivery settled")
    finally:
        await asyncio.get_running_loop().run_in_executor(None, worker.stop)


def _spread_over_the_hour(stack: Stack) -> None:
    """Move what the worker did back in time, event by event from 55 minutes ago to 5: each
    event's deliveries and attempts, its record at the CRM (and so its guest's profile), and
    the breaker changes and notifications that followed its attempts."""

    def offsets() -> list[tuple[str, dt.timedelta]]:
        events = [e.id for e in OutboxEvent.select(OutboxEvent.id).order_by(OutboxEvent.seq)]
        return [
            (event_id, dt.timedelta(minutes=55 - n * 50 / max(len(events) - 1, 1), seconds=n * 7 % 40))
            for n, event_id in enumerate(events)
        ]

    def move_pms(moves: list[tuple[str, dt.timedelta]]) -> None:
        after_attempt = []  # (when an attempt started, how far it moved), to move what followed it
        for event_id, back in moves:
            event = OutboxEvent.get(OutboxEvent.id == event_id)
            OutboxEvent.update(occurred_at=event.occurred_at - back).where(OutboxEvent.id == event_id).execute()
            for delivery in Delivery.select().where(Delivery.event_id == event_id):
                Delivery.update(
                    created_at=delivery.created_at - back,
                    delivered_at=delivery.delivered_at and delivery.delivered_at - back,
                ).where(Delivery.id == delivery.id).execute()
            for attempt in DeliveryAttempt.select().where(DeliveryAttempt.event_id == event_id):
                after_attempt.append((attempt.started_at, back))
                DeliveryAttempt.update(started_at=attempt.started_at - back).where(
                    DeliveryAttempt.id == attempt.id
                ).execute()
        after_attempt.sort(key=lambda pair: pair[0])

        def back_of(moment: dt.datetime) -> dt.timedelta:
            earlier = [back for started, back in after_attempt if started <= moment]
            return earlier[-1] if earlier else after_attempt[0][1]

        # never earlier than the one raised before it, so the lists stay in order of time
        latest = None
        for change in BreakerTransition.select().order_by(BreakerTransition.id):
            latest = max(filter(None, (latest, change.at - back_of(change.at))))
            BreakerTransition.update(at=latest).where(BreakerTransition.id == change.id).execute()
        latest = None
        for notice in Notification.select().order_by(Notification.id):
            latest = max(filter(None, (latest, notice.created_at - back_of(notice.created_at))))
            Notification.update(created_at=latest).where(Notification.id == notice.id).execute()

    def move_crm(moves: list[tuple[str, dt.timedelta]]) -> None:
        for event_id, back in moves:
            for event in CrmEvent.select().where(CrmEvent.webhook_id == event_id):
                CrmEvent.update(
                    received_at=event.received_at - back, occurred_at=event.occurred_at and event.occurred_at - back
                ).where(CrmEvent.id == event.id).execute()
        for profile in GuestProfile.select():
            times = [
                e.received_at
                for e in CrmEvent.select(CrmEvent.received_at).where(CrmEvent.guest_id == profile.guest_id)
            ]
            GuestProfile.update(created_at=min(times), updated_at=max(times)).where(
                GuestProfile.guest_id == profile.guest_id
            ).execute()

    moves = stack.pms_store.call(offsets)
    stack.pms_store.call(move_pms, moves)
    stack.crm_store.call(move_crm, moves)


async def _pms(http, stack: Stack, method: str, path: str, body: dict) -> dict:
    response = await call(http, stack.pms_url, method, "/api/v1" + path, body)
    assert response.code in (200, 201), (path, response.code, response.body)
    return json_of(response)["data"]


def _latest_event(stack: Stack, guest_id: int) -> str:
    return stack.pms_store.call(
        lambda: (
            OutboxEvent.select(OutboxEvent.id)
            .where((OutboxEvent.type == "guest.updated") & (OutboxEvent.entity_id == guest_id))
            .order_by(OutboxEvent.seq.desc())
            .first()
            .id
        )
    )


async def _create_endpoint(stack: Stack, visitor: Visitor, name: str, url: str, event_types: str) -> int:
    response = await visitor.post(
        "/endpoints/new",
        {
            "name": name,
            "url": url,
            "event_types": event_types,
            "enabled": "1",
            "description": f"{name.title()} service",
        },
    )
    assert response.code == 201, response.body
    return stack.pms_store.call(lambda: Endpoint.get(Endpoint.name == name).id)


async def live_an_hour(stack: Stack, http, alice: Visitor, bob: Visitor) -> Hour:
    with (
        Receiver(fail_first(BREAKER_THRESHOLD), "/hooks/guests") as loyalty_rx,
        Receiver(always(410), "/ingest") as analytics_rx,
    ):
        loyalty = await _create_endpoint(stack, bob, "loyalty", loyalty_rx.url, "guest.*")
        analytics = await _create_endpoint(stack, bob, "analytics", analytics_rx.url, "reservation.*")
        rotated = await bob.post(f"/endpoints/{loyalty}/rotate", {"overlap_seconds": "3600"})
        assert rotated.code == 200, rotated.body
        guests = []
        for n, (name, email, country) in enumerate(GUESTS):
            guest = await _pms(http, stack, "POST", "/guests", {"name": name, "email": email, "country": country})
            guests.append(guest["id"])
            room, room_type, total = ROOMS[n]
            await _pms(
                http,
                stack,
                "POST",
                "/reservations",
                {
                    "guest_id": guest["id"],
                    "room_number": room,
                    "room_type": room_type,
                    "total_amount": total,
                    "currency": "EUR",
                    "adults": 2,
                    "check_in": f"2027-03-{n + 10:02d}",
                    "check_out": f"2027-03-{n + 13:02d}",
                },
            )
        for guest_id in guests[:3]:
            await _pms(http, stack, "PUT", f"/guests/{guest_id}", {"phone": "+44 20 7946 0958"})
        await _deliver_everything(stack)
        _spread_over_the_hour(stack)

        # Two changes the CRM answered 503 to until the worker gave up; alice replays one of them.
        await _pms(http, stack, "PUT", f"/guests/{guests[3]}", {"country": "GB"})
        replayed = _latest_event(stack, guests[3])
        stack.fail(replayed, attempts=3, code=503, error="HTTP 503", body='{"error": "maintenance"}')
        await alice.post(f"/deliveries/{replayed}/replay", {"next": "/deliveries"})
        await _deliver_everything(stack)

        await _pms(http, stack, "PUT", f"/guests/{guests[1]}", {"email": "bruno@example.org"})
        failed = _latest_event(stack, guests[1])
        stack.fail(failed, attempts=4, code=500, error="HTTP 500", body='{"error": "internal error"}')
        stack.age(failed, minutes=8)
        await _pms(http, stack, "PUT", f"/guests/{guests[1]}", {"phone": "+34 912 345 678"})
        later = _latest_event(stack, guests[1])
        stack.fail(later, attempts=2, code=422, error="HTTP 422", body='{"error": "email is taken"}')
        stack.age(failed, minutes=25, endpoint_id=loyalty)  # still pending there: the oldest waiting
        stack.age(later, minutes=12, endpoint_id=loyalty)

    # A change the CRM never got although its delivery says delivered: the reconciliation finds it.
    await _pms(http, stack, "PUT", f"/guests/{guests[5]}", {"name": "Fatima Haddad-Lopez"})
    lost = _latest_event(stack, guests[5])
    lose(
        stack.pms_store,
        stack.pms_store.call(lambda: list(OutboxEvent.select().where(OutboxEvent.id == lost))),
        as_status="delivered",
    )
    runs = reconcile(stack.pms_store, crm_side(stack.crm_store), kinds=("reservation", "guest"))
    assert any(run["drifted"] for run in runs), runs

    # Webhooks the CRM refused: a stale timestamp (twice) and a wrong signature.
    for stamp in (1, 2, int(utcnow().timestamp())):
        await http.fetch(
            stack.crm_url + "/api/v1/webhooks/pms",
            method="POST",
            raise_error=False,
            body=b'{"type": "guest.updated"}',
            headers={
                "Content-Type": "application/json",
                "webhook-id": f"msg_2f9{stamp}",
                "webhook-timestamp": str(stamp),
                "webhook-signature": "v1,Zm9vYmFy",
            },
        )

    crm_events = json_of(await http.fetch(stack.crm_url + "/api/v1/events?limit=1"))["data"]
    return Hour(
        guests=guests,
        failed=failed,
        replayed=replayed,
        crm_event=crm_events[0]["id"],
        warned=guests[1],
        loyalty=loyalty,
        analytics=analytics,
    )
