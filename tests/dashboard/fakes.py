"""Small fake PMS and CRM services serving the JSON shapes of the real APIs, for the dashboard's tests.

Each fake is a Tornado app over in-memory rows that the test owns; it records every request
(``requests``) so tests can count what the dashboard asked for, and can be switched to
answer 500 (``failing = True``). The fake PMS records the ``X-Operator`` of every action in
``audit`` (as ``GET /audit`` lists them); ``audit = None`` makes it an older PMS without
that route (404). Its notifications are tailed like the CRM's events (``reserve_notification_id``
stands for a transaction that commits late); ``notifications = None`` is a PMS without them.
Its endpoint activity is ``endpoints`` (one health item each; endpoint 1's is derived, its
breaker being the status route's) plus the chart's minutes (``record_minute``); ``sync_runs`` are
the reconciliation runs.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlparse

import tornado.web


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso(offset_seconds: float = 0) -> str:
    return iso(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_seconds))


@dataclass
class FakeState:
    requests: list = field(default_factory=list)
    failing: bool = False
    token: str | None = None

    def count(self, path: str) -> int:
        return sum(1 for method, p, _ in self.requests if method == "GET" and p == path)


def _page(rows: list[dict], handler: tornado.web.RequestHandler, key=lambda r: r["id"]) -> dict:
    """Newest first with an index cursor, or ascending after ``since_id``."""
    limit = int(handler.get_argument("limit", "50"))
    cursor = handler.get_argument("cursor", None)
    since = handler.get_argument("since_id", None)
    if cursor and cursor.startswith("a"):
        ordered = [r for r in sorted(rows, key=key) if key(r) > int(cursor[1:])]
    elif cursor:
        ordered = list(reversed(rows))[int(cursor) :]
    elif since is not None:
        ordered = [r for r in sorted(rows, key=key) if key(r) > int(since)]
    else:
        ordered = list(reversed(rows))
    page = ordered[:limit]
    next_cursor = None
    if len(ordered) > limit:
        if cursor and cursor.startswith("a") or (since is not None and not cursor):
            next_cursor = f"a{key(page[-1])}"
        else:
            next_cursor = str(int(cursor or 0) + limit)
    return {"data": page, "next_cursor": next_cursor}


class FakeHandler(tornado.web.RequestHandler):
    def initialize(self, state: FakeState, service) -> None:
        self.state = state
        self.service = service

    def prepare(self) -> None:
        parsed = urlparse(self.request.uri)
        self.state.requests.append((self.request.method, parsed.path, parsed.query))
        if self.state.token and self.request.headers.get("Authorization") != f"Bearer {self.state.token}":
            self.send(
                401, {"error": {"code": "unauthorized", "message": "a valid bearer token is required", "details": []}}
            )
        elif self.state.failing:
            self.send(500, {"error": {"code": "internal_error", "message": "boom", "details": []}})

    def send(self, status: int, body) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def not_found(self) -> None:
        self.send(404, {"error": {"code": "not_found", "message": "no such thing", "details": []}})

    def filtered(self, rows: list[dict], *names: str) -> list[dict]:
        for name in names:
            value = self.get_argument(name, None)
            if value:
                rows = [r for r in rows if str(r.get(name)) == value]
        return rows


# --- PMS ------------------------------------------------------------------------------


class FakePms:
    def __init__(self):
        self.state = FakeState()
        self.deliveries: list[dict] = []  # oldest first
        self.details: dict[str, dict] = {}
        self.breaker = {"state": "closed", "failure_count": 0, "opened_at": None, "workers": []}
        self.replayed: list[str] = []
        self.replayed_all = 0
        self.transitions: list[dict] | None = None  # None: a PMS without the history route
        self.audit: list[dict] | None = []  # oldest first; None: a PMS without /audit
        self.operators: list[str | None] = []  # X-Operator of each action, in order
        self.notifications: list[dict] | None = []  # ascending ids; None: a PMS without the route
        self._next_notification_id = 1
        self.endpoints: list[dict] = []  # health tiles of endpoints 2.. (endpoint 1 is derived)
        self.minutes: dict[str, dict] = {}  # chart minute (ISO) -> its numbers
        self.sync_runs: list[dict] | None = []  # oldest first; None: a PMS without the route
        self.activity_route = True  # False: a PMS without endpoint activity
        self.clock_minutes = 0  # moves the fake's "now" on, to see the chart move

    def record(self, handler: tornado.web.RequestHandler, action: str, target: str | None) -> None:
        operator = handler.request.headers.get("X-Operator")
        self.operators.append(operator)
        if self.audit is not None:
            self.add_audit(operator or "unknown", action, target)

    def add_audit(self, operator: str, action: str, target: str | None = None) -> dict:
        row = {"id": len(self.audit) + 1, "operator": operator, "action": action, "target": target, "at": now_iso()}
        self.audit.append(row)
        return row

    def add_delivery(
        self,
        type_: str = "guest.created",
        status: str = "pending",
        entity_id: int = 1,
        payload: dict | None = None,
        attempts: list | None = None,
        created_at: str | None = None,
        delivered_at: str | None = None,
    ) -> dict:
        last = (attempts or [None])[-1] or {}
        row = {
            "id": str(uuid.uuid4()),
            "type": type_,
            "status": status,
            "entity_id": entity_id,
            "entity_version": 1,
            "attempt_count": len(attempts or []),
            "next_attempt_at": now_iso() if status in ("pending", "delivering") else None,
            "created_at": created_at or now_iso(),
            "delivered_at": delivered_at,
            "endpoint_id": 1,
            "last_error": last.get("error"),
            "last_status_code": last.get("status_code"),
        }
        self.deliveries.append(row)
        self.details[row["id"]] = {"payload": payload or {"id": entity_id, "version": 1}, "attempts": attempts or []}
        return row

    def add_notification(
        self,
        type_: str = "endpoint.failing",
        endpoint_id: int | None = 2,
        data: dict | None = None,
        notification_id: int | None = None,
    ) -> dict:
        if notification_id is None:
            notification_id = self.reserve_notification_id()
        self._next_notification_id = max(self._next_notification_id, notification_id + 1)
        row = {
            "id": notification_id,
            "type": type_,
            "endpoint_id": endpoint_id,
            "data": {"failure_count": 5} if data is None else data,
            "created_at": now_iso(),
        }
        self.notifications.append(row)
        self.notifications.sort(key=lambda r: r["id"])
        return row

    def reserve_notification_id(self) -> int:
        """An id taken now whose row appears later (a transaction that commits late)."""
        notification_id = self._next_notification_id
        self._next_notification_id += 1
        return notification_id

    def status(self) -> dict:
        counts = {s: 0 for s in ("pending", "delivering", "delivered", "failed")}
        for row in self.deliveries:
            if row["status"] in counts:
                counts[row["status"]] += 1
        return {
            "endpoint": "http://crm.invalid/api/v1/webhooks/pms",
            "breaker": self.breaker,
            "outbox": counts,
            "last_success_at": None,
            "last_failure_at": None,
        }

    def add_endpoint(
        self,
        endpoint_id: int,
        name: str,
        enabled: bool = True,
        disabled_reason: str | None = None,
        state: str = "closed",
        oldest_pending_at: str | None = None,
        **last_hour,
    ) -> dict:
        """An endpoint's health item as the activity route lists it; ``last_hour`` sets its figures."""
        tile = {
            "endpoint_id": endpoint_id,
            "name": name,
            "enabled": enabled,
            "disabled_reason": disabled_reason,
            "breaker": {"state": state, "failure_count": 0, "opened_at": None, "workers": []},
            "deliveries": {"pending": 0, "delivering": 0, "held": 0, "failed": 0},
            "oldest_pending_at": oldest_pending_at,
            "oldest_pending_age_seconds": None,
            "last_hour": {
                "attempts": 0,
                "succeeded": 0,
                "failed": 0,
                "success_rate": None,
                "p50_ms": None,
                "p95_ms": None,
                **last_hour,
            },
            "last_success_at": None,
            "last_failure_at": None,
        }
        self.endpoints.append(tile)
        return tile

    def record_minute(
        self, minutes_ago: int, delivered: int, failed: int = 0, p50_ms: int | None = None, p95_ms: int | None = None
    ) -> str:
        """The chart's numbers for one minute (0 = the current one); returns its ISO start."""
        start = self.minute_now() - dt.timedelta(minutes=minutes_ago)
        at = iso(start)
        self.minutes[at] = {"delivered": delivered, "failed": failed, "p50_ms": p50_ms, "p95_ms": p95_ms}
        return at

    def add_sync_run(self, **fields) -> dict:
        run = {
            "id": len(self.sync_runs) + 1,
            "started_at": now_iso(-5),
            "finished_at": now_iso(),
            "kind": "guest",
            "compared": 1200,
            "drifted": 0,
            "repaired": 0,
            "unrepairable": 0,
            "status": "completed",
            "in_flight": 0,
            "dry_run": False,
            "trigger": "schedule",
            "requests": 4,
            "error": None,
            "unrepairable_entities": [],
            **fields,
        }
        self.sync_runs.append(run)
        return run

    def minute_now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=self.clock_minutes)

    def activity(self) -> dict:
        end = self.minute_now()
        series = []
        for i in range(59, -1, -1):
            at = iso(end - dt.timedelta(minutes=i))
            numbers = self.minutes.get(at, {"delivered": 0, "failed": 0, "p50_ms": None, "p95_ms": None})
            series.append({"at": at, **numbers})
        counts = {
            s: sum(1 for r in self.deliveries if r["status"] == s) for s in ("pending", "delivering", "held", "failed")
        }
        pending = [r["created_at"] for r in self.deliveries if r["status"] in ("pending", "delivering")]
        delivered = sum(m["delivered"] for m in series)
        failed = sum(m["failed"] for m in series)
        hour = {
            "attempts": delivered + failed,
            "succeeded": delivered,
            "failed": failed,
            "success_rate": round(delivered / (delivered + failed), 4) if delivered + failed else None,
            "p50_ms": max((m["p50_ms"] for m in series if m["p50_ms"] is not None), default=None),
            "p95_ms": max((m["p95_ms"] for m in series if m["p95_ms"] is not None), default=None),
        }
        crm = {
            "endpoint_id": 1,
            "name": "crm",
            "enabled": True,
            "disabled_reason": None,
            "breaker": self.breaker,
            "deliveries": counts,
            "oldest_pending_at": min(pending, default=None),
            "oldest_pending_age_seconds": None,
            "last_hour": hour,
            "last_success_at": None,
            "last_failure_at": None,
        }
        oldest = min((t["oldest_pending_at"] for t in (crm, *self.endpoints) if t["oldest_pending_at"]), default=None)
        return {
            "generated_at": now_iso(),
            "overall": {
                "oldest_pending_at": oldest,
                "oldest_pending_age_seconds": None,
                "last_hour": hour,
                "minutes": series,
            },
            "endpoints": [{**crm, "minutes": series}, *({**e, "minutes": []} for e in self.endpoints)],
        }

    def app(self) -> tornado.web.Application:
        fake = self

        class Status(FakeHandler):
            def get(self):
                self.send(200, {"data": fake.status()})

        class Deliveries(FakeHandler):
            def get(self):
                self.send(
                    200,
                    _page(
                        self.filtered(fake.deliveries, "status", "type"), self, key=lambda r: fake.deliveries.index(r)
                    ),
                )

        class Delivery(FakeHandler):
            def get(self, delivery_id):
                row = next((r for r in fake.deliveries if r["id"] == delivery_id), None)
                if row is None:
                    return self.not_found()
                self.send(200, {"data": {**row, **fake.details[delivery_id]}})

        class Replay(FakeHandler):
            def post(self, delivery_id):
                if delivery_id not in fake.details:
                    return self.not_found()
                fake.replayed.append(delivery_id)
                fake.record(self, "delivery.replay", delivery_id)
                self.send(202, {"data": {"id": delivery_id, "status": "pending"}})

        class Transitions(FakeHandler):
            def get(self):
                if fake.transitions is None:
                    return self.not_found()
                self.send(200, {"data": list(reversed(fake.transitions)), "next_cursor": None})

        class ReplayAll(FakeHandler):
            def post(self):
                failed = [r for r in fake.deliveries if r["status"] == "failed"]
                fake.replayed_all += 1
                fake.record(self, "delivery.replay_failed", None)
                self.send(202, {"data": {"replayed": len(failed)}})

        class Audit(FakeHandler):
            def get(self):
                if fake.audit is None:
                    return self.not_found()
                self.send(200, _page(self.filtered(fake.audit, "operator", "action"), self))

        class Notifications(FakeHandler):
            def get(self):
                if fake.notifications is None:
                    return self.not_found()
                self.send(200, _page(self.filtered(fake.notifications, "type"), self))

        class Activity(FakeHandler):
            def get(self):
                if not fake.activity_route:
                    return self.not_found()
                self.send(200, {"data": fake.activity()})

        class SyncRuns(FakeHandler):
            def get(self):
                if fake.sync_runs is None:
                    return self.not_found()
                self.send(200, _page(fake.sync_runs, self))

        kwargs = {"state": self.state, "service": self}
        return tornado.web.Application(
            [
                (r"/api/v1/audit", Audit, kwargs),
                (r"/api/v1/endpoints/activity", Activity, kwargs),
                (r"/api/v1/sync/runs", SyncRuns, kwargs),
                (r"/api/v1/notifications", Notifications, kwargs),
                (r"/api/v1/guests/webhook/status", Status, kwargs),
                (r"/api/v1/guests/webhook/transitions", Transitions, kwargs),
                (r"/api/v1/webhooks/deliveries", Deliveries, kwargs),
                (r"/api/v1/webhooks/deliveries/replay", ReplayAll, kwargs),
                (r"/api/v1/webhooks/deliveries/([^/]+)", Delivery, kwargs),
                (r"/api/v1/webhooks/deliveries/([^/]+)/replay", Replay, kwargs),
            ]
        )


# --- CRM ------------------------------------------------------------------------------


class FakeCrm:
    def __init__(self):
        self.state = FakeState()
        self.events: list[dict] = []  # ascending ids
        self.profiles: dict[int, dict] = {}
        self.rejections: list[dict] = []
        self._next_event_id = 1

    def add_event(
        self,
        type_: str = "guest.created",
        entity_id: int = 1,
        status: str = "processed",
        payload: dict | None = None,
        event_id: int | None = None,
    ) -> dict:
        if event_id is None:
            event_id = self._next_event_id
        self._next_event_id = max(self._next_event_id, event_id + 1)
        row = {
            "id": event_id,
            "webhook_id": str(uuid.uuid4()),
            "type": type_,
            "status": status,
            "entity_id": entity_id,
            "entity_version": 1,
            "occurred_at": now_iso(-1),
            "received_at": now_iso(),
            "payload": payload or {"id": entity_id, "version": 1},
        }
        self.events.append(row)
        self.events.sort(key=lambda r: r["id"])
        return row

    def reserve_event_id(self) -> int:
        """An id taken now whose row appears later (a transaction that commits late)."""
        event_id = self._next_event_id
        self._next_event_id += 1
        return event_id

    def add_profile(
        self,
        guest_id: int,
        name: str = "Ann Example",
        email: str = "ann@example.com",
        tier: str = "new",
        total: int = 0,
    ) -> dict:
        profile = {
            "guest_id": guest_id,
            "email": email,
            "name": name,
            "phone": None,
            "date_of_birth": None,
            "country": "NL",
            "version": 1,
            "stats": {
                "total_reservations": total,
                "active_reservations": 0,
                "cancelled_reservations": 0,
                "total_nights": 2 * total,
                "average_nights": 2 if total else 0,
                "lifetime_value": {"USD": f"{240 * total}.00"} if total else {},
                "first_check_in": None,
                "last_check_out": None,
                "next_check_in": None,
            },
            "tier": tier,
            "sources": ["pms"],
            "updated_at": now_iso(),
        }
        self.profiles[guest_id] = profile
        return profile

    def add_rejection(self, reason: str = "invalid_signature", webhook_id: str | None = None) -> dict:
        row = {
            "id": len(self.rejections) + 1,
            "reason": reason,
            "remote_ip": "10.0.0.7",
            "received_at": now_iso(),
            "webhook_id": webhook_id,
        }
        self.rejections.append(row)
        return row

    def app(self) -> tornado.web.Application:
        fake = self

        class Events(FakeHandler):
            def get(self):
                rows = self.filtered(fake.events, "type", "status", "entity_id", "webhook_id")
                guest_id = self.get_argument("guest_id", None)
                if guest_id:
                    rows = [
                        r
                        for r in rows
                        if str(
                            r["entity_id"] if r["type"].startswith("guest.") else (r["payload"] or {}).get("guest_id")
                        )
                        == guest_id
                    ]
                self.send(200, _page(rows, self))

        class Event(FakeHandler):
            def get(self, event_id):
                row = next((r for r in fake.events if r["id"] == int(event_id)), None)
                self.send(200, {"data": row}) if row else self.not_found()

        class Profiles(FakeHandler):
            def get(self):
                rows = sorted(fake.profiles.values(), key=lambda p: p["guest_id"])
                q = (self.get_argument("q", "") or "").lower()
                if q:
                    rows = [p for p in rows if q in (p["name"] or "").lower() or q in (p["email"] or "").lower()]
                tier = self.get_argument("tier", None)
                if tier:
                    rows = [p for p in rows if p["tier"] == tier]
                self.send(200, _page(rows, self, key=lambda p: p["guest_id"]))

        class Profile(FakeHandler):
            def get(self, guest_id):
                row = fake.profiles.get(int(guest_id))
                self.send(200, {"data": row}) if row else self.not_found()

        class Rejections(FakeHandler):
            def get(self):
                self.send(200, _page(fake.rejections, self))

        kwargs = {"state": self.state, "service": self}
        return tornado.web.Application(
            [
                (r"/api/v1/events", Events, kwargs),
                (r"/api/v1/events/([0-9]+)", Event, kwargs),
                (r"/api/v1/guest-profiles", Profiles, kwargs),
                (r"/api/v1/guest-profiles/([0-9]+)", Profile, kwargs),
                (r"/api/v1/webhooks/rejections", Rejections, kwargs),
            ]
        )


# --- a realistic hour, for the overview's tests and for looking at the pages by hand ------

GUESTS = [
    (7, "Ann Example", "ann@example.com", "vip", 12),
    (8, "Bruno Díaz", "bruno.diaz@example.org", "returning", 3),
    (9, "Chen Wei", "chen.wei@example.net", "new", 1),
    (10, "Dana O'Neil", "dana@example.com", "returning", 2),
]


def populate(fake_pms: FakePms, fake_crm: FakeCrm) -> dict:
    """An hour at a hotel where the loyalty endpoint fails and the analytics one was switched off:
    deliveries in every status, CRM events and profiles, a rejection, notifications, endpoint
    tiles, the chart's minutes and a reconciliation run. Returns the ids the pages link to."""
    for guest_id, name, email, tier, total in GUESTS:
        fake_crm.add_profile(guest_id, name=name, email=email, tier=tier, total=total)
    delivered = None
    for i in range(14):
        guest_id = GUESTS[i % len(GUESTS)][0]
        kind = ("guest.updated", "reservation.created", "reservation.updated")[i % 3]
        entity_id = guest_id if kind.startswith("guest") else 300 + i
        delivered = fake_pms.add_delivery(
            kind,
            "delivered",
            entity_id=entity_id,
            created_at=now_iso(-3400 + i * 240),
            delivered_at=now_iso(-3399 + i * 240),
            attempts=[
                {
                    "attempt": 1,
                    "started_at": now_iso(-3399 + i * 240),
                    "status_code": 202,
                    "duration_ms": 35 + i * 3,
                    "error": None,
                    "response_body": '{"data": {"status": "accepted"}}',
                }
            ],
        )
        fake_crm.add_event(kind, entity_id=entity_id, payload={"id": 300 + i, "guest_id": guest_id, "version": 1})
    failed = fake_pms.add_delivery(
        "reservation.updated",
        "failed",
        entity_id=412,
        created_at=now_iso(-2700),
        attempts=[
            {
                "attempt": n,
                "started_at": now_iso(-2700 + n * 300),
                "status_code": 503,
                "duration_ms": 18,
                "error": "HTTP 503",
                "response_body": '{"error": {"code": "service_unavailable"}}',
            }
            for n in range(1, 5)
        ],
    )
    for offset in (-300, -90, -20):
        fake_pms.add_delivery(
            "guest.updated",
            "pending",
            entity_id=8,
            created_at=now_iso(offset),
            attempts=[
                {
                    "attempt": 1,
                    "started_at": now_iso(offset + 5),
                    "status_code": None,
                    "duration_ms": 10_000,
                    "error": "timed out",
                    "response_body": None,
                }
            ],
        )
    fake_crm.add_rejection("invalid_signature", webhook_id="6f1c2d1e-7b1e-4a55-9d0e-2f4b3c1a9e10")
    loyalty = fake_pms.add_endpoint(
        2,
        "loyalty",
        state="open",
        oldest_pending_at=now_iso(-1260),
        success_rate=0.4118,
        attempts=85,
        succeeded=35,
        failed=50,
        p50_ms=1800,
        p95_ms=10_000,
    )
    loyalty["deliveries"].update(pending=37, delivering=2, failed=4)
    analytics = fake_pms.add_endpoint(3, "analytics", enabled=False, disabled_reason="gone")
    analytics["deliveries"]["held"] = 18
    for minute in range(60):
        delivered_now = 4 + (minute * 7) % 9
        failed_now = 3 + minute % 4 if 20 <= minute <= 39 else 0
        fake_pms.record_minute(
            59 - minute,
            delivered=delivered_now,
            failed=failed_now,
            p50_ms=40 + (minute * 13) % 30,
            p95_ms=180 + (minute * 37) % 400 + failed_now * 900,
        )
    fake_pms.add_notification("endpoint.failing", endpoint_id=2, data={"failure_count": 5})
    fake_pms.add_notification("endpoint.disabled", endpoint_id=3, data={"reason": "gone"})
    fake_pms.add_notification(
        "delivery.failed",
        endpoint_id=1,
        data={
            "event_id": failed["id"],
            "type": "reservation.updated",
            "last_error": "HTTP 503",
            "last_status_code": 503,
        },
    )
    fake_pms.add_notification("sync.drift", endpoint_id=None, data={"drifted": 2, "repaired": 2, "unrepairable": 0})
    fake_pms.add_sync_run(drifted=2, repaired=2, compared=4821)
    fake_pms.add_audit("alice", "delivery.replay", failed["id"])
    fake_pms.add_audit("bob", "endpoint.disable", "3")
    fake_pms.breaker.update(state="closed", failure_count=0)
    event = fake_crm.events[-1]
    return {"delivered": delivered, "failed": failed, "event": event, "profile": 7}
