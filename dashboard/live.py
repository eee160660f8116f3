"""The live feed: one poller per dashboard process, fanned out to every websocket client.

``Poller`` asks each service once per interval what changed and hands each change to
``Hub.publish`` as ``{"kind": ..., "data": ...}`` with ``data`` exactly as the service returned it:

- CRM events and PMS notifications are tailed with ``?since_id=`` from the highest id seen
  (each list with its own ``IdTail``). Auto-increment ids can
  commit out of order (a row with a lower id becomes visible after a higher one), so ``IdTail``
  remembers the ids it skipped over ("gaps"); while any is open, a second read per tick
  re-reads one page from just before the oldest gap, until that id shows up or ``gap_seconds``
  pass (an id taken by a rolled-back transaction never shows up). Rows already seen are
  dropped, so nothing is sent twice and a late commit is still sent; new rows never wait
  behind a gap.
- A new notification is sent as ``notification``; the pages show it as a toast.
- Each new CRM event names a guest (its entity for ``guest.*``, ``payload.guest_id`` for
  ``reservation.*``); that guest's profile is fetched once per tick and sent as ``profile``
  (at most ``MAX_PROFILES_PER_TICK`` per tick; the rest wait for the next ticks).
- PMS deliveries are addressed by UUID and change status after they are created, so instead
  of a tail ``DeliveryWatch`` re-reads the newest page each tick and sends every row that is
  new or whose status/attempts changed (following older pages while a page is all new).
- The status route's ``breaker`` is sent whenever its state, failure counts or workers change.
- The PMS's endpoint activity (one read for every endpoint) feeds the overview: ``endpoint``
  (one endpoint's tile: breaker, counts, oldest waiting delivery, success rate and latency over
  the last hour) when that tile changed, ``endpoint_removed`` when one was deleted, ``overall``
  (the same figures over every endpoint) when they changed, and ``chart`` (one minute of the
  chart: delivered, failed, p50, p95) for each minute whose numbers changed, the new minute
  included when the clock turns. An age
  growing is not a change: the pages count it from ``oldest_pending_at``.
- The newest reconciliation run is sent as ``sync_run`` when a run starts or its figures change.

The first tick after the poller starts only takes a baseline: clients loaded the current
state with the page. The poller runs while at least one client is connected, and for
``linger`` seconds after the last one leaves (so a reconnecting page misses nothing).

``Hub`` serialises each message once and offers it to every client; a client owns a bounded
queue drained by its own writer, so a slow or dead socket never delays the others and is
disconnected when its queue is full.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Protocol
from collections.abc import Callable, Iterable

from .chart import chart_points
from .clients import ServiceError, Services

log = logging.getLogger("guestsync.dashboard.live")

MAX_PAGES_PER_TICK = 5
MAX_PROFILES_PER_TICK = 25


class IdTail:
    """Which rows of an id-ordered list are new, tolerant of ids that commit out of order."""

    def __init__(self, gap_seconds: float = 10.0, max_gaps: int = 1000, clock: Callable[[], float] = time.monotonic):
        self.high: int | None = None
        self.gaps: dict[int, float] = {}
        self.gap_seconds = gap_seconds
        self.max_gaps = max_gaps
        self.clock = clock

    @property
    def started(self) -> bool:
        return self.high is not None

    def since_id(self) -> int:
        """Where the read of new rows starts: the highest id seen."""
        return self.high or 0

    def gap_since_id(self) -> int | None:
        """Where the re-read of late rows starts (just before the oldest open gap), if any is open."""
        self._expire()
        return min(self.gaps) - 1 if self.gaps else None

    def baseline(self, ids: Iterable[int]) -> None:
        """Start from the rows visible now (none of them is new); holes among them are gaps."""
        ids = sorted(set(ids))
        self.high = ids[-1] if ids else 0
        self.gaps = {}
        if ids:
            now = self.clock()
            seen = set(ids)
            for missing in range(max(ids[0], ids[-1] - self.max_gaps), ids[-1]):
                if missing not in seen:
                    self.gaps[missing] = now

    def accept(self, rows: list[dict]) -> list[dict]:
        """The rows not seen before, in ascending id order; updates the high mark and gaps."""
        if self.high is None:
            self.high = 0
        now = self.clock()
        fresh = []
        for row in sorted(rows, key=lambda r: r["id"]):
            row_id = row["id"]
            if row_id > self.high:
                for missing in range(max(self.high + 1, row_id - self.max_gaps), row_id):
                    self.gaps[missing] = now
                self.high = row_id
                fresh.append(row)
            elif row_id in self.gaps:
                del self.gaps[row_id]
                fresh.append(row)
        if len(self.gaps) > self.max_gaps:
            for gap in sorted(self.gaps)[: len(self.gaps) - self.max_gaps]:
                del self.gaps[gap]
        return fresh

    def _expire(self) -> None:
        cutoff = self.clock() - self.gap_seconds
        for gap in [g for g, since in self.gaps.items() if since < cutoff]:
            del self.gaps[gap]


def delivery_signature(row: dict) -> tuple:
    return (row.get("status"), row.get("attempt_count"), row.get("next_attempt_at"), row.get("delivered_at"))


class DeliveryWatch:
    """Which deliveries on the newest pages are new or changed since the last look."""

    def __init__(self):
        self.known: dict[str, tuple] | None = None

    @property
    def started(self) -> bool:
        return self.known is not None

    def baseline(self, rows: list[dict]) -> None:
        self.known = {row["id"]: delivery_signature(row) for row in rows}

    def page_is_all_new(self, rows: list[dict]) -> bool:
        return bool(rows) and self.known is not None and not any(r["id"] in self.known for r in rows)

    def accept(self, rows: list[dict]) -> list[dict]:
        """Changed or new rows, oldest first; the newest pages become the remembered window."""
        known = self.known or {}
        changed = [row for row in reversed(rows) if known.get(row["id"]) != delivery_signature(row)]
        self.known = {row["id"]: delivery_signature(row) for row in rows}
        return changed


def breaker_key(breaker: dict | None) -> str:
    """What makes a breaker change worth sending (worker heartbeats alone are not)."""
    if not isinstance(breaker, dict):
        return "null"
    workers = sorted(
        (w.get("worker_id"), w.get("state"), w.get("failure_count"), w.get("opened_at"))
        for w in breaker.get("workers") or []
        if isinstance(w, dict)
    )
    return json.dumps(
        [breaker.get("state"), breaker.get("failure_count"), breaker.get("opened_at"), workers], default=str
    )


def without_minutes(entry: dict) -> dict:
    """An endpoint's (or every endpoint's) figures as a tile shows them; the per-minute series
    stays on the chart."""
    return {key: value for key, value in entry.items() if key != "minutes"}


def tile_key(tile: dict) -> str:
    """What makes a tile change worth sending: not a worker's heartbeat, not an age growing."""
    return json.dumps(
        {**tile, "breaker": breaker_key(tile.get("breaker")), "oldest_pending_age_seconds": None},
        sort_keys=True,
        default=str,
    )


def sync_run_key(run: dict | None) -> str:
    if not isinstance(run, dict):
        return "null"
    return json.dumps(
        [
            run.get(k)
            for k in ("id", "status", "finished_at", "compared", "drifted", "repaired", "unrepairable", "in_flight")
        ],
        default=str,
    )


def profile_guest_id(event: dict) -> int | None:
    """The guest whose profile a CRM event may have changed."""
    kind = str(event.get("type") or "")
    if kind == "guest.deleted":
        return None
    if kind.startswith("guest."):
        return event.get("entity_id")
    if kind.startswith("reservation."):
        payload = event.get("payload") or {}
        return payload.get("guest_id") if isinstance(payload, dict) else None
    return None


class Poller:
    """One tick = one read of each watched list per service, then the touched profiles."""

    def __init__(
        self,
        services: Services,
        publish: Callable[[str, Any], None],
        interval: float,
        deliveries_window: int = 100,
        events_page: int = 500,
        gap_seconds: float = 10.0,
    ):
        self.services = services
        self.publish = publish
        self.interval = interval
        self.deliveries_window = deliveries_window
        self.events_page = events_page
        self.gap_seconds = gap_seconds
        self.ticks = 0
        self.reset()

    def reset(self) -> None:
        self.events = IdTail(self.gap_seconds)
        self.notifications = IdTail(self.gap_seconds)
        self.deliveries = DeliveryWatch()
        self.breaker: str | None = None
        self.tiles: dict[Any, str] | None = None  # endpoint id -> tile_key, once the baseline is taken
        self.overall: str | None = None
        self.points: dict[str, tuple] = {}  # chart minute -> its numbers
        self.sync_run: str | None = None
        self.profiles_due: dict[int, None] = {}  # guest ids whose profile is to be sent, oldest first
        self._failing: set[str] = set()

    async def run(self) -> None:
        self.reset()
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await self.poll_once()
            await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))

    async def poll_once(self) -> None:
        touched = await asyncio.gather(
            self._poll_events(),
            self._poll_deliveries(),
            self._poll_breaker(),
            self._poll_notifications(),
            self._poll_activity(),
            self._poll_sync_runs(),
        )
        for guest_id in touched[0]:
            self.profiles_due.pop(guest_id, None)
            self.profiles_due[guest_id] = None
        due = list(self.profiles_due)[:MAX_PROFILES_PER_TICK]
        for guest_id in due:
            del self.profiles_due[guest_id]
        await self._poll_profiles(due)
        self.ticks += 1

    async def _guard(self, what: str, coro) -> Any:
        """Run one read; a failing service is logged once per outage, not once per tick."""
        try:
            result = await coro
        except ServiceError as exc:
            if what not in self._failing:
                self._failing.add(what)
                log.warning("live feed: %s failed: %s", what, exc)
            return None
        if what in self._failing:
            self._failing.discard(what)
            log.info("live feed: %s recovered", what)
        return result

    async def _tail(self, what: str, tail: IdTail, fetch: Callable[..., Any]) -> list[dict]:
        """The rows of an id-ordered list not seen before (none on the first read: the baseline)."""
        if not tail.started:
            page = await self._guard(what, fetch(limit=50))
            if page is not None:
                tail.baseline(row["id"] for row in page.get("data") or [])
            return []
        high = tail.since_id()
        gap_since = tail.gap_since_id()
        rows: list[dict] = []
        params: dict[str, Any] = {"since_id": high, "limit": self.events_page}
        for _ in range(MAX_PAGES_PER_TICK):
            page = await self._guard(what, fetch(**params))
            if page is None:
                break
            rows += page.get("data") or []
            if not page.get("next_cursor"):
                break
            params = {"cursor": page["next_cursor"], "limit": self.events_page}
        if gap_since is not None:
            page = await self._guard(what, fetch(since_id=gap_since, limit=self.events_page))
            rows += [row for row in (page or {}).get("data") or [] if row["id"] <= high]
        return tail.accept(rows)

    async def _poll_events(self) -> list[int]:
        touched: list[int] = []
        for event in await self._tail("CRM events", self.events, self.services.crm.events):
            self.publish("event", event)
            guest_id = profile_guest_id(event)
            if isinstance(guest_id, int) and guest_id not in touched:
                touched.append(guest_id)
        return touched

    async def _poll_notifications(self) -> None:
        for notification in await self._tail("PMS notifications", self.notifications, self.services.pms.notifications):
            self.publish("notification", notification)

    async def _poll_deliveries(self) -> None:
        pms = self.services.pms
        rows: list[dict] = []
        params: dict[str, Any] = {"limit": self.deliveries_window}
        for _ in range(MAX_PAGES_PER_TICK):
            page = await self._guard("PMS deliveries", pms.deliveries(**params))
            if page is None:
                return
            data = page.get("data") or []
            rows += data
            if not (self.deliveries.page_is_all_new(data) and page.get("next_cursor")):
                break
            params = {"cursor": page["next_cursor"], "limit": self.deliveries_window}
        if not self.deliveries.started:
            self.deliveries.baseline(rows)
            return
        for row in self.deliveries.accept(rows):
            self.publish("delivery", row)

    async def _poll_breaker(self) -> None:
        status = await self._guard("PMS status", self.services.pms.status())
        if status is None:
            return
        breaker = status.get("breaker")
        key = breaker_key(breaker)
        if self.breaker is not None and key != self.breaker:
            self.publish("breaker", breaker)
        self.breaker = key

    async def _poll_activity(self) -> None:
        activity = await self._guard("PMS endpoint activity", self.services.pms.endpoints_activity())
        if not isinstance(activity, dict):
            return
        baseline = self.tiles is None
        tiles: dict[Any, str] = {}
        for entry in activity.get("endpoints") or []:
            if not isinstance(entry, dict) or entry.get("endpoint_id") is None:
                continue
            tile = without_minutes(entry)
            key = tile_key(tile)
            tiles[entry["endpoint_id"]] = key
            if not baseline and self.tiles.get(entry["endpoint_id"]) != key:
                self.publish("endpoint", tile)
        if not baseline:
            for gone in [endpoint_id for endpoint_id in self.tiles if endpoint_id not in tiles]:
                self.publish("endpoint_removed", {"endpoint_id": gone})
        self.tiles = tiles
        overall = activity.get("overall") if isinstance(activity.get("overall"), dict) else {}
        figures = without_minutes(overall)
        key = tile_key(figures)
        if self.overall is not None and key != self.overall:
            self.publish("overall", figures)
        self.overall = key
        points = {}
        for point in chart_points(overall.get("minutes")):
            numbers = (point["delivered"], point["failed"], point["p50_ms"], point["p95_ms"])
            points[point["at"]] = numbers
            if not baseline and self.points.get(point["at"]) != numbers:
                self.publish("chart", point)
        self.points = points

    async def _poll_sync_runs(self) -> None:
        page = await self._guard("PMS sync runs", self.services.pms.sync_runs(limit=1))
        if page is None:
            return
        newest = (page.get("data") or [None])[0]
        key = sync_run_key(newest)
        if self.sync_run is not None and key != self.sync_run and newest is not None:
            self.publish("sync_run", newest)
        self.sync_run = key

    async def _poll_profiles(self, guest_ids: list[int]) -> None:
        async def one(guest_id: int) -> None:
            try:
                profile = await self.services.crm.profile(guest_id)
            except ServiceError:
                return  # erased meanwhile, or the CRM went away; the next change retries
            self.publish("profile", profile)

        await asyncio.gather(*(one(g) for g in guest_ids))


class Subscriber(Protocol):
    def offer(self, message: str) -> bool: ...


class Hub:
    """The set of connected clients, and the poller that runs while there are any."""

    def __init__(self, services: Services, interval: float, linger: float = 30.0, **poller_options: Any):
        self.poller = Poller(services, self.publish, interval, **poller_options)
        self.linger = linger
        self.clients: set[Subscriber] = set()
        self._task: asyncio.Task | None = None
        self._stop_handle: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def subscribe(self, client: Subscriber) -> None:
        self.clients.add(client)
        if self._stop_handle is not None:
            self._stop_handle.cancel()
            self._stop_handle = None
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def unsubscribe(self, client: Subscriber) -> None:
        self.clients.discard(client)
        if not self.clients and self.running and self._stop_handle is None:
            loop = asyncio.get_running_loop()
            self._stop_handle = loop.call_later(self.linger, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        self._stop_handle = None
        if not self.clients:
            self.stop()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        try:
            await self.poller.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in one tick must not end the feed silently
            log.exception("live poller crashed; restarting it")
            await asyncio.sleep(self.poller.interval)
            if self.clients:
                self._task = asyncio.get_running_loop().create_task(self._run())

    def publish(self, kind: str, data: Any) -> None:
        message = json.dumps({"kind": kind, "data": data}, separators=(",", ":"), ensure_ascii=False)
        for client in list(self.clients):
            if not client.offer(message):
                self.clients.discard(client)


CLOSE_TOO_SLOW = 4000  # the browser reconnects and tells the operator the page missed updates


class ClientQueue:
    """A bounded queue of serialised messages for one client, drained by its writer task.

    ``close(code, reason)`` is called once when the client is dropped for falling behind.
    """

    def __init__(self, write: Callable[[str], Any], close: Callable[..., None], size: int):
        self._write = write
        self._close = close
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=size)
        self._task = asyncio.get_running_loop().create_task(self._drain())
        self.closed = False

    def offer(self, message: str) -> bool:
        if self.closed:
            return False
        try:
            self._queue.put_nowait(message)
            return True
        except asyncio.QueueFull:
            log.warning("live feed: a client fell %d messages behind; disconnecting it", self._queue.maxsize)
            self.shutdown(CLOSE_TOO_SLOW, "too far behind; reload")
            return False

    def shutdown(self, code: int | None = None, reason: str | None = None) -> None:
        if not self.closed:
            self.closed = True
            self._task.cancel()
            self._close(code, reason)

    async def _drain(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                await self._write(message)
            except asyncio.CancelledError:
                raise
            except Exception:  # the socket closed under us
                self.closed = True
                self._close(None, None)
                return
