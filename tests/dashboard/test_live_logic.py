"""The live feed's logic without sockets: tails, change detection, poll ticks, fan-out."""

from __future__ import annotations

import asyncio

import pytest

from dashboard.clients import Services
from dashboard.config import DashboardSettings
from tests.dashboard.fakes import now_iso
from dashboard.live import ClientQueue, DeliveryWatch, Hub, IdTail, Poller, breaker_key, profile_guest_id


def rows(*ids):
    return [{"id": i} for i in ids]


def test_tail_sends_each_row_once_in_id_order():
    tail = IdTail()
    tail.baseline([1, 2, 3])
    assert tail.since_id() == 3 and tail.gap_since_id() is None
    assert [r["id"] for r in tail.accept(rows(5, 4))] == [4, 5]
    assert tail.accept(rows(4, 5)) == []
    assert tail.since_id() == 5


def test_tail_catches_a_row_that_commits_after_a_higher_id():
    tail = IdTail(gap_seconds=30, clock=lambda: 100.0)
    tail.baseline([10])
    assert [r["id"] for r in tail.accept(rows(12, 13))] == [12, 13]  # 11 not visible yet
    assert tail.since_id() == 13 and tail.gap_since_id() == 10  # re-read from before it
    assert [r["id"] for r in tail.accept(rows(11, 12, 13))] == [11]  # it commits: sent once, late
    assert tail.gap_since_id() is None


def test_tail_gives_up_on_an_id_that_never_commits():
    now = [0.0]
    tail = IdTail(gap_seconds=30, clock=lambda: now[0])
    tail.baseline([1])
    tail.accept(rows(3))
    assert tail.gap_since_id() == 1
    now[0] = 31.0
    assert tail.gap_since_id() is None


def test_tail_baseline_holes_are_watched_too():
    tail = IdTail(clock=lambda: 0.0)
    tail.baseline([1, 2, 4])
    assert tail.gap_since_id() == 2
    assert [r["id"] for r in tail.accept(rows(3, 4))] == [3]


def test_tail_bounds_the_gaps_it_tracks():
    tail = IdTail(max_gaps=10, clock=lambda: 0.0)
    tail.baseline([0])
    tail.accept(rows(1_000_000))
    assert len(tail.gaps) <= 10
    assert tail.gap_since_id() >= 1_000_000 - 11


def delivery(id_, status="pending", attempts=0):
    return {"id": id_, "status": status, "attempt_count": attempts, "next_attempt_at": None, "delivered_at": None}


def test_delivery_watch_sends_new_and_changed_rows_oldest_first():
    watch = DeliveryWatch()
    watch.baseline([delivery("b"), delivery("a")])
    changed = watch.accept([delivery("c"), delivery("b", "delivered", 1), delivery("a")])
    assert [(r["id"], r["status"]) for r in changed] == [("b", "delivered"), ("c", "pending")]
    assert watch.accept([delivery("c"), delivery("b", "delivered", 1), delivery("a")]) == []


def test_breaker_key_ignores_heartbeats_but_not_state():
    closed = {
        "state": "closed",
        "failure_count": 0,
        "opened_at": None,
        "workers": [{"worker_id": "w1", "state": "closed", "failure_count": 0, "opened_at": None, "updated_at": "t1"}],
    }
    heartbeat = {**closed, "workers": [{**closed["workers"][0], "updated_at": "t2"}]}
    opened = {**closed, "state": "open", "failure_count": 5}
    assert breaker_key(closed) == breaker_key(heartbeat)
    assert breaker_key(closed) != breaker_key(opened)


@pytest.mark.parametrize(
    "event, guest",
    [
        ({"type": "guest.updated", "entity_id": 4}, 4),
        ({"type": "reservation.created", "entity_id": 9, "payload": {"guest_id": 4}}, 4),
        ({"type": "guest.deleted", "entity_id": 4}, None),
        ({"type": "loyalty.changed", "entity_id": 4}, None),
    ],
)
def test_profile_guest_id(event, guest):
    assert profile_guest_id(event) == guest


class Recorder:
    def __init__(self):
        self.messages = []

    def __call__(self, kind, data):
        self.messages.append((kind, data))


def make_services(fake_pms, fake_crm) -> Services:
    return Services.from_settings(DashboardSettings(pms_url=fake_pms.url, crm_url=fake_crm.url, token="x"))


@pytest.mark.gen_test
async def test_poller_baselines_then_sends_changes_with_the_services_data(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    old = fake_pms.add_delivery()
    fake_crm.add_event("guest.created", entity_id=1)
    await poller.poll_once()
    assert sent.messages == []  # the page already shows what exists

    new_delivery = fake_pms.add_delivery("guest.updated", entity_id=2)
    old["status"] = "delivered"
    event = fake_crm.add_event("reservation.created", entity_id=8, payload={"id": 8, "guest_id": 2})
    profile = fake_crm.add_profile(2, name="Bea")
    fake_pms.breaker.update(state="open", failure_count=5)
    await poller.poll_once()
    kinds = [k for k, _ in sent.messages]
    assert sorted(kinds) == ["breaker", "delivery", "delivery", "endpoint", "event", "overall", "profile"]
    data = {k: d for k, d in sent.messages if k != "delivery"}
    assert data["endpoint"]["endpoint_id"] == 1 and data["endpoint"]["breaker"]["state"] == "open"
    assert data["overall"]["oldest_pending_at"] == new_delivery["created_at"]
    assert data["event"] == event
    assert data["profile"] == profile
    assert data["breaker"]["state"] == "open"
    assert [d for k, d in sent.messages if k == "delivery"] == [old, new_delivery]
    services.close()


@pytest.mark.gen_test
async def test_poller_makes_one_request_per_list_per_tick(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    poller = Poller(services, Recorder(), interval=1)
    for _ in range(3):
        await poller.poll_once()
    assert fake_crm.state.count("/api/v1/events") == 3
    assert fake_pms.state.count("/api/v1/webhooks/deliveries") == 3
    assert fake_pms.state.count("/api/v1/guests/webhook/status") == 3
    assert fake_pms.state.count("/api/v1/notifications") == 3
    assert fake_pms.state.count("/api/v1/endpoints/activity") == 3
    assert fake_pms.state.count("/api/v1/sync/runs") == 3
    assert len(fake_crm.state.requests) + len(fake_pms.state.requests) == 18
    services.close()


@pytest.mark.gen_test
async def test_poller_sends_an_event_that_commits_late_without_holding_back_new_ones(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    fake_crm.add_event(entity_id=1)
    await poller.poll_once()
    late_id = fake_crm.reserve_event_id()  # a transaction took this id and has not committed
    early = fake_crm.add_event(entity_id=3)
    await poller.poll_once()
    assert sent.messages == [("event", early)]
    newer = fake_crm.add_event(entity_id=4)
    late = fake_crm.add_event(entity_id=2, event_id=late_id)  # now it commits
    await poller.poll_once()
    assert [d["id"] for k, d in sent.messages if k == "event"] == [early["id"], late_id, newer["id"]]
    assert late in [d for _, d in sent.messages]
    requests_before = fake_crm.state.count("/api/v1/events")
    await poller.poll_once()  # no gap left: one read per tick again
    assert fake_crm.state.count("/api/v1/events") == requests_before + 1
    assert [d["id"] for k, d in sent.messages if k == "event"] == [early["id"], late_id, newer["id"]]
    services.close()


@pytest.mark.gen_test
async def test_poller_sends_each_new_notification_once_as_the_pms_returned_it(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    fake_pms.add_notification("endpoint.failing", endpoint_id=2)
    await poller.poll_once()
    assert sent.messages == []  # older notifications are not toasted again
    disabled = fake_pms.add_notification("endpoint.disabled", endpoint_id=3, data={"reason": "gone"})
    failed = fake_pms.add_notification(
        "delivery.failed",
        endpoint_id=1,
        data={"event_id": "e1", "type": "guest.updated", "last_error": "HTTP 500", "last_status_code": 500},
    )
    await poller.poll_once()
    await poller.poll_once()
    assert sent.messages == [("notification", disabled), ("notification", failed)]
    services.close()


@pytest.mark.gen_test
async def test_poller_sends_a_notification_that_commits_late(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    await poller.poll_once()
    late_id = fake_pms.reserve_notification_id()  # raised in a transaction still open
    early = fake_pms.add_notification("endpoint.recovered", endpoint_id=4, data={})
    await poller.poll_once()
    assert sent.messages == [("notification", early)]
    late = fake_pms.add_notification("endpoint.failing", endpoint_id=5, notification_id=late_id)
    await poller.poll_once()
    await poller.poll_once()
    assert sent.messages == [("notification", early), ("notification", late)]
    services.close()


@pytest.mark.gen_test
async def test_a_pms_without_notifications_leaves_the_rest_of_the_feed_alone(fake_pms, fake_crm):
    fake_pms.notifications = None
    fake_pms.activity_route = False  # (its tiles would change with the new delivery)
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    await poller.poll_once()
    row = fake_pms.add_delivery()
    event = fake_crm.add_event()
    await poller.poll_once()
    assert sorted(sent.messages, key=lambda m: m[0]) == [("delivery", row), ("event", event)]
    services.close()


@pytest.mark.gen_test
async def test_poller_keeps_going_when_a_service_is_down(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    await poller.poll_once()
    fake_crm.state.failing = True
    row = fake_pms.add_delivery()
    await poller.poll_once()
    assert [m for m in sent.messages if m[0] == "delivery"] == [("delivery", row)]
    assert {k for k, _ in sent.messages} == {"delivery", "endpoint", "overall"}  # the PMS side goes on
    fake_crm.state.failing = False
    event = fake_crm.add_event()
    await poller.poll_once()
    assert sent.messages[-1] == ("event", event)
    services.close()


@pytest.mark.gen_test
async def test_poller_follows_pages_when_many_rows_arrive_in_one_tick(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1, deliveries_window=10, events_page=10)
    await poller.poll_once()
    for i in range(25):
        fake_pms.add_delivery(entity_id=i)
        fake_crm.add_event("loyalty.changed", entity_id=i)
    await poller.poll_once()
    assert [d["entity_id"] for k, d in sent.messages if k == "delivery"] == list(range(25))
    assert [d["entity_id"] for k, d in sent.messages if k == "event"] == list(range(25))
    services.close()


@pytest.mark.gen_test
async def test_profiles_beyond_the_per_tick_budget_are_sent_on_the_next_ticks(fake_pms, fake_crm):
    from dashboard.live import MAX_PROFILES_PER_TICK

    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    await poller.poll_once()
    total = MAX_PROFILES_PER_TICK + 5
    for guest_id in range(1, total + 1):
        fake_crm.add_profile(guest_id)
        fake_crm.add_event("guest.created", entity_id=guest_id)
    await poller.poll_once()
    assert len([1 for kind, _ in sent.messages if kind == "profile"]) == MAX_PROFILES_PER_TICK
    await poller.poll_once()
    profiles = [data["guest_id"] for kind, data in sent.messages if kind == "profile"]
    assert sorted(profiles) == list(range(1, total + 1))
    services.close()


class FakeSocket:
    """A websocket stand-in: writes complete at once, or never (``stuck``)."""

    def __init__(self, stuck: bool = False):
        self.stuck = stuck
        self.received: list[str] = []
        self.closed = False

    async def write(self, message: str) -> None:
        if self.stuck:
            await asyncio.Event().wait()
        self.received.append(message)

    def close(self, code=None, reason=None) -> None:
        self.closed = True
        self.close_code = code


@pytest.mark.gen_test
async def test_a_stuck_client_is_dropped_and_never_delays_the_others(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    hub = Hub(services, interval=60, linger=0)
    good, stuck = FakeSocket(), FakeSocket(stuck=True)
    good_q = ClientQueue(good.write, good.close, size=4)
    stuck_q = ClientQueue(stuck.write, stuck.close, size=4)
    hub.subscribe(good_q)
    hub.subscribe(stuck_q)
    for i in range(20):
        hub.publish("event", {"id": i})
        await asyncio.sleep(0)  # let writers run, as the IOLoop does between messages
    for _ in range(10):
        await asyncio.sleep(0)
    assert len(good.received) == 20
    assert stuck.closed and stuck_q not in hub.clients
    assert stuck.close_code == 4000
    assert good_q in hub.clients and not good.closed
    good_q.shutdown()
    hub.stop()
    await asyncio.sleep(0)
    services.close()


@pytest.mark.gen_test
async def test_the_poller_runs_only_while_someone_listens(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    hub = Hub(services, interval=0.01, linger=0)
    assert not hub.running
    client = ClientQueue(FakeSocket().write, lambda *args: None, size=4)
    hub.subscribe(client)
    assert hub.running
    hub.unsubscribe(client)
    deadline = asyncio.get_running_loop().time() + 5
    while hub.running and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    assert not hub.running
    client.shutdown()
    await asyncio.sleep(0)
    services.close()


@pytest.mark.gen_test
async def test_poller_sends_a_tile_when_an_endpoint_changes_not_when_a_worker_only_beats(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    loyalty = fake_pms.add_endpoint(2, "loyalty")
    loyalty["breaker"]["workers"] = [
        {"worker_id": "w-1", "state": "closed", "failure_count": 0, "opened_at": None, "updated_at": now_iso()}
    ]
    await poller.poll_once()
    assert sent.messages == []
    loyalty["breaker"]["workers"][0]["updated_at"] = now_iso(1)  # a heartbeat: nothing to show
    loyalty["oldest_pending_age_seconds"] = 61.5  # nor an age growing
    await poller.poll_once()
    assert sent.messages == []
    loyalty.update(enabled=False, disabled_reason="gone")
    loyalty["deliveries"]["held"] = 4
    await poller.poll_once()
    assert sent.messages == [("endpoint", {k: v for k, v in loyalty.items() if k != "minutes"})]
    fake_pms.add_endpoint(3, "warehouse")  # a new endpoint gets its tile too
    await poller.poll_once()
    assert [(k, d["name"]) for k, d in sent.messages[1:]] == [("endpoint", "warehouse")]
    fake_pms.endpoints.remove(loyalty)  # and a deleted one loses it
    await poller.poll_once()
    assert sent.messages[2:] == [("endpoint_removed", {"endpoint_id": 2})]
    services.close()


@pytest.mark.gen_test
async def test_poller_sends_each_chart_minute_whose_numbers_changed(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    fake_pms.record_minute(5, delivered=7)
    await poller.poll_once()
    assert sent.messages == []  # the page drew the hour already
    await poller.poll_once()
    assert sent.messages == []
    at = fake_pms.record_minute(0, delivered=3, failed=2, p50_ms=40, p95_ms=900)
    await poller.poll_once()
    chart = [d for k, d in sent.messages if k == "chart"]
    assert chart == [{"at": at, "delivered": 3, "failed": 2, "p50_ms": 40, "p95_ms": 900}]
    overall = [d for k, d in sent.messages if k == "overall"]
    assert len(overall) == 1 and overall[0]["last_hour"]["failed"] == 2 and "minutes" not in overall[0]
    # a new minute starting is a change too: the chart moves on by itself
    poller.points.pop(at)
    sent.messages.clear()
    await poller.poll_once()
    assert [d["at"] for k, d in sent.messages if k == "chart"] == [at]
    services.close()


@pytest.mark.gen_test
async def test_poller_sends_the_newest_reconciliation_run_when_it_changes(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    await poller.poll_once()
    run = fake_pms.add_sync_run(status="running", finished_at=None)
    await poller.poll_once()
    run.update(status="completed", finished_at=now_iso(), drifted=3, repaired=3)
    await poller.poll_once()
    await poller.poll_once()
    assert [(k, d["status"], d["drifted"]) for k, d in sent.messages] == [
        ("sync_run", "running", 0),
        ("sync_run", "completed", 3),
    ]
    services.close()


@pytest.mark.gen_test
async def test_a_pms_without_endpoint_activity_or_sync_runs_leaves_the_rest_of_the_feed_working(fake_pms, fake_crm):
    services = make_services(fake_pms, fake_crm)
    sent = Recorder()
    poller = Poller(services, sent, interval=1)
    fake_pms.activity_route = False
    fake_pms.sync_runs = None
    await poller.poll_once()
    fake_pms.breaker.update(state="open")
    await poller.poll_once()
    assert [k for k, _ in sent.messages] == ["breaker"]
    services.close()
