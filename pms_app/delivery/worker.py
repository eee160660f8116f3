"""The delivery worker: claim due deliveries (an event to one endpoint), send them, record every attempt.

Threads, never the API's IOLoop:

* the dispatcher repeats ``run_once()``, one turn in one short transaction: it settles the
  outcomes the senders handed back (attempt rows; delivered / retry later / failed; fenced by
  the claim) and claims due deliveries for the free slots, a few rounds of sends ahead. Each endpoint
  has its own breaker here: an open one keeps its endpoint's deliveries unclaimed, a half-open
  one lets one probe through, and neither holds any other endpoint back. Batching the writes
  this way costs one commit per turn, not per delivery; while the senders have claims queued,
  a turn waits for a batch of outcomes worth its transaction. Between turns it waits as its
  ``Pacer`` (``pacing.py``) says: not at all after finding work, ``poll_min`` while work came
  recently, backing off to ``poll_max`` when idle, cut short by ``wake()``;
* ``DELIVERY_CONCURRENCY`` sender threads each make one signed attempt at a time, with the
  sender of the delivery's endpoint (its URL, secrets and timeout), taking the endpoints'
  queued claims in turn, at most ``max_in_flight`` of one endpoint at once;
* the maintenance thread re-reads the endpoints, heartbeats the worker's rows, takes over
  expired leases and prunes delivered deliveries past retention;
* the reconciliation schedule (``pms_app.sync.schedule``), on its own thread, reconciles with
  the CRM every ``RECONCILE_EVERY_SECONDS`` when this worker holds the lease.

At start the worker brings endpoint 1 in step with ``CRM_WEBHOOK_URL`` / ``CRM_WEBHOOK_SECRET``
(unless it was edited through the API) and reads the endpoints before it claims anything.

``stop()`` is the graceful shutdown: no new claims, in-flight attempts finish and are recorded,
anything claimed but not yet sent is released (back to ``pending``, lease cleared).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import logging
import os
import queue
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from core.contract import BREAKER_CLOSED, BREAKER_OPEN
from core.db import Store, utcnow
from core.metrics import Metrics
from core.signing import keys_from_secrets

from ..config import PmsSettings
from ..endpoints import crm, health
from ..models import CRM_ENDPOINT_ID, HELD
from ..notifications import ops, raising
from ..sync.schedule import ReconcileSchedule
from . import attempt_log, claims, reporting, retention
from .attempt_trace import AttemptSpans
from .breaker import BreakerSnapshot, EndpointBreaker, Ticket
from .destinations import Destination, EndpointConfig, load_endpoints
from .metrics import DeliveryMetrics
from .pacing import Pacer, Turn, WorkerTiming
from .retry import next_delay
from .sender import Sender

log = logging.getLogger("guestsync.delivery")

CLAIM_ROUNDS = 4  # rounds of sends a worker may have claimed: one sending, three queued


def new_worker_id() -> str:
    host = socket.gethostname().split(".")[0][:32] or "worker"
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class DeliveryWorker:
    def __init__(
        self,
        settings: PmsSettings,
        store: Store,
        metrics: Metrics | None = None,
        worker_id: str | None = None,
        timing: WorkerTiming | None = None,
    ):
        self.settings = settings
        self.store = store
        self.timing = timing = timing or WorkerTiming()
        self.worker_id = worker_id or new_worker_id()
        self.metrics = DeliveryMetrics(metrics or Metrics("pms-worker"))
        self.metrics.watch_queue(store)
        self.spans = AttemptSpans(settings)
        self._destinations: dict[int, Destination] = {}
        self._destinations_lock = threading.Lock()
        self._endpoints_loaded = False
        self.concurrency = settings.delivery_concurrency
        # Claimed but unsettled events per worker: ``CLAIM_ROUNDS`` rounds of sends (one being
        # sent, the rest queued for the senders; see ``_claim_depth`` for each endpoint's share).
        self.max_unsettled = CLAIM_ROUNDS * self.concurrency
        # A turn is a transaction of about nine statements, about 1 ms of this process's CPU
        # however few rows it carries. So while the senders still have claimed events queued, a
        # turn waits until it can settle (and replace) two rounds of sends, or until the queue
        # runs low; in bench/worker.py's drain that took a turn from 5 to 11 events and the
        # worker from 300-380 to about 280 us of CPU per event.
        self.turn_batch = (CLAIM_ROUNDS // 2) * self.concurrency
        self.low_water = self.concurrency // 2  # this few queued claims or fewer: claim now
        self._unsent = 0  # claims handed to the senders that no sender has picked up yet
        self._settle_since: float | None = None  # when the oldest outcome not yet written came
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="delivery-send")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._in_flight_by: dict[int, int] = {}  # per endpoint, for its max_in_flight
        # Claimed, not yet sent, per endpoint (see ``_hand_out``), and its sender tasks.
        self._lanes: dict[int, collections.deque[tuple[claims.Claim, Ticket]]] = {}
        self._lane_tasks: dict[int, int] = {}
        self.pacer = Pacer(timing)
        # Outcomes handed back by the senders and not yet written (kept across turns while the
        # database is down, until their lease runs out).
        self._to_settle: list[claims.Outcome] = []
        self._outcomes: queue.SimpleQueue[claims.Outcome] = queue.SimpleQueue()
        self._stopping = threading.Event()
        # Per endpoint id: (last success, last failure) seen since the previous heartbeat.
        self._outcome_times: dict[int, tuple[dt.datetime | None, dt.datetime | None]] = {}
        self._threads: list[threading.Thread] = []
        self._registered = False
        # This worker's breaker row is written by the heartbeat and by every transition, from
        # different threads: one writer at a time, so a heartbeat never overwrites the state a
        # transition has just saved with an older snapshot.
        self._reporting = threading.Lock()
        self.reconcile = ReconcileSchedule(settings, store, self.worker_id, wake=self.wake)
        # Notifications go to OPS_WEBHOOK_URL when it is set (signed with OPS_WEBHOOK_SECRET).
        self.ops_sender = None
        if settings.ops_webhook_url and settings.ops_webhook_secrets:
            self.ops_sender = Sender(
                settings.ops_webhook_url,
                keys_from_secrets(settings.ops_webhook_secrets),
                settings.delivery_timeout_seconds,
                denied=settings.endpoint_denied_networks,
            )
        elif settings.ops_webhook_url:
            log.warning("OPS_WEBHOOK_URL is set but OPS_WEBHOOK_SECRET is not: notifications are not pushed")

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> DeliveryWorker:
        try:
            self.load_endpoints()
        except Exception as exc:  # the database may be down: the dispatcher tries again
            log.warning("could not read the endpoints at start: %s", exc)
        for name, target in (
            ("delivery-dispatch", self._dispatch_loop),
            ("delivery-maintenance", self._maintenance_loop),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.reconcile.start()
        log.info(
            "delivery worker %s started: %s endpoint(s), concurrency %s",
            self.worker_id,
            len(self._destinations),
            self.concurrency,
        )
        return self

    # -- endpoints ---------------------------------------------------------------------------

    def load_endpoints(self) -> None:
        """Follow the configuration for endpoint 1 (the first time), then re-read every endpoint."""
        if not self._endpoints_loaded:
            self.store.call(crm.sync, self.settings.crm_webhook_url, self.settings.crm_webhook_secrets)
        configs: dict[int, EndpointConfig] = self.store.call(load_endpoints, self.settings)
        with self._destinations_lock:
            for endpoint_id, config in configs.items():
                known = self._destinations.get(endpoint_id)
                if known is None:
                    self._destinations[endpoint_id] = Destination(
                        config, self.worker_id, self._breaker_changed, self.settings.endpoint_denied_networks
                    )
                    # A new breaker is closed: say so from the first scrape on.
                    self.metrics.breaker_state(config.label, self._destinations[endpoint_id].breaker.state)
                else:
                    known.refresh(config)
            for gone in set(self._destinations) - set(configs):
                self._destinations.pop(gone).close()
        self._endpoints_loaded = True

    def destination(self, endpoint_id: int) -> Destination | None:
        """The endpoint's sender and breaker; re-reads the endpoints once if it is unknown."""
        found = self._destinations.get(endpoint_id)
        if found is None:
            self.load_endpoints()
            found = self._destinations.get(endpoint_id)
        return found

    @property
    def breaker(self) -> EndpointBreaker:
        """Endpoint 1's breaker in this worker (the CRM's, as in part one)."""
        return self.destination(CRM_ENDPOINT_ID).breaker

    def wake(self) -> None:
        """New events were committed: claim now instead of at the next poll (thread-safe)."""
        self.pacer.wake()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Stop claiming, let in-flight attempts finish (or release them), then leave."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.pacer.wake()
        self.reconcile.stop()
        for thread in self._threads:  # the dispatcher leaves once every claim is settled
            thread.join()
        self._pool.shutdown(wait=True)
        if self._registered:
            try:
                self.store.call(reporting.unregister_worker, self.worker_id)
            except Exception:  # the database may be gone; the heartbeat simply ages out
                log.warning("could not unregister delivery worker %s", self.worker_id)
        with self._destinations_lock:
            for destination in self._destinations.values():
                destination.close()
        log.info("delivery worker %s stopped", self.worker_id)

    # -- dispatching -------------------------------------------------------------------------

    def _admit(self) -> tuple[dict[int, Ticket], list[int], list[int], dict[int, int], dict[int, float]]:
        """Ask every enabled endpoint's breaker: tickets by endpoint, the endpoints whose sends are
        held back (disabled, breaker open, or half-open with its probe out), and those due one
        probe; then how many more each may have in flight, and the rate-limited ones."""
        tickets: dict[int, Ticket] = {}
        blocked, probes = [], []
        capacity: dict[int, int] = {}
        rates: dict[int, float] = {}
        with self._destinations_lock:
            destinations = list(self._destinations.values())
        for destination in destinations:
            config = destination.config
            with self._lock:
                # Claims may run a few rounds ahead of the sends (``max_in_flight`` sending, up to
                # three times as many claimed behind them), so a sender never waits for the
                # dispatcher's next transaction; the endpoint's lane and its ``in_flight`` limit
                # hold the sends themselves to ``max_in_flight``.
                depth = self._claim_depth(config)
                room = depth * config.max_in_flight - self._in_flight_by.get(destination.id, 0)
            if room <= 0:
                blocked.append(destination.id)
                continue
            capacity[destination.id] = room
            if config.rate_limit_per_second:
                rates[destination.id] = config.rate_limit_per_second
            if not config.enabled:
                # Disabled: its deliveries are held, but a retry scheduled by an attempt that was
                # in flight when it was disabled must not go out either.
                blocked.append(destination.id)
                continue
            ticket = destination.breaker.admit()
            if ticket is None:
                blocked.append(destination.id)
            else:
                tickets[destination.id] = ticket
                if ticket.probe:
                    probes.append(destination.id)
        return tickets, blocked, probes, capacity, rates

    def _claim_depth(self, config: EndpointConfig) -> int:
        """How many rounds of ``max_in_flight`` sends an endpoint may have claimed at once:
        ``CLAIM_ROUNDS``, unless rounds of timed-out sends ahead of the last claimed event could
        keep it waiting past its lease (then two, one round sending and one queued)."""
        if CLAIM_ROUNDS * config.timeout_seconds < self.settings.delivery_lease_seconds:
            return CLAIM_ROUNDS
        return 2

    def _release_unused(self, tickets: dict[int, Ticket], batch: list[claims.Claim]) -> None:
        used = {claim.endpoint_id for claim in batch}
        for endpoint_id, ticket in tickets.items():
            if ticket.probe and endpoint_id not in used:
                destination = self._destinations.get(endpoint_id)
                if destination is not None:
                    destination.breaker.release(ticket)

    def _seconds_until_probe(self, blocked: list[int]) -> float:
        waits = [d.breaker.seconds_until_probe() for i, d in list(self._destinations.items()) if i in blocked]
        return min(waits, default=self.timing.poll_max)

    def _dispatch_loop(self) -> None:
        """Turn after turn until stopped and settled, pausing between turns as the pacer says."""
        while True:
            self.pacer.turn_started()
            turn = self.run_once()
            if turn.done:
                return
            self.pacer.sleep(self.pacer.pause(turn))

    def run_once(self) -> Turn:
        """One turn: settle what the senders finished and claim new work for the free slots,
        in one short transaction, then hand the claims to the senders. ``found_work`` on the
        answer says whether anything was claimed; the rest tells the pacer how long to wait."""
        self._to_settle += self._take_outcomes()
        finished = self._to_settle
        stopping = self._stopping.is_set()
        with self._lock:
            unsettled, low = self._in_flight, self._running_low()
        if stopping and unsettled == 0:
            return Turn(done=True)
        if finished and self._settle_since is None:
            self._settle_since = time.monotonic()
        if not self._endpoints_loaded and not stopping:
            try:
                self.load_endpoints()
            except Exception as exc:
                log.warning("could not read the endpoints: %s", exc)
                return Turn(failed=True)
        # Outcomes settled in this turn free their slots in the same turn.
        free = 0 if stopping else self.max_unsettled - (unsettled - len(finished))
        if not stopping and not self._worth_a_turn(len(finished), low):
            return Turn(free=free)
        tickets, blocked, probes, capacity, rates = self._admit() if free > 0 else ({}, [], [], {}, {})
        # Probes are claimed apart (one each); they take slots like any delivery.
        limit = max(0, free - len(probes))
        batch: list[claims.Claim] = []
        if finished or limit or probes:
            try:
                kept, batch = self.store.call(
                    claims.cycle,
                    self.worker_id,
                    finished,
                    limit,
                    self.settings.delivery_lease_seconds,
                    blocked,
                    probes,
                    capacity,
                    rates,
                    transaction=False,
                )
            except Exception as exc:  # DatabaseUnavailable, or anything unexpected: keep going
                self._release_unused(tickets, [])
                log.warning("settling/claiming failed: %s", exc)
                self._to_settle = self._keep_unexpired(finished, give_up=stopping)
                if not self._to_settle:
                    self._settle_since = None
                return Turn(free=free, failed=True)
            self._count(finished, kept)
            with self._lock:
                self._in_flight += len(batch) - len(finished)
                self._unsent += len(batch)
                self._count_by_endpoint(batch, [o.claim for o in finished])
            self._to_settle = []
            self._settle_since = None
            self._hand_out(batch, tickets)
        self._release_unused(tickets, batch)
        probe_in = None
        if not batch and free > 0 and blocked and not tickets:
            # Every breaker open: nothing is claimed until a probe may go.
            probe_in = self._seconds_until_probe(blocked)
        # Anything finished was settled by the cycle above (it runs whenever there is).
        return Turn(claimed=len(batch), settled=len(finished), free=free, probe_in=probe_in)

    def _hand_out(self, batch: list[claims.Claim], tickets: dict[int, Ticket]) -> None:
        """Queue each claim on its endpoint's lane and start a sender task for each lane that has
        fewer running than its ``max_in_flight``.

        A sender task takes one claim of its lane at a time and goes back to the end of the
        pool's queue between claims, so senders are shared among endpoints in turn and never sit
        waiting for one endpoint's in-flight limit while another endpoint's claims wait (with
        one queue of claims for all, three endpoints' unlimited ones got 0.56-0.64 of a
        single endpoint's rate)."""
        starts: list[int] = []
        with self._lock:
            for claim in batch:
                self._lanes.setdefault(claim.endpoint_id, collections.deque()).append(
                    (claim, tickets.get(claim.endpoint_id, Ticket(probe=False)))
                )
            for endpoint_id in {claim.endpoint_id for claim in batch}:
                destination = self._destinations.get(endpoint_id)
                limit = destination.config.max_in_flight if destination is not None else 1
                running = self._lane_tasks.get(endpoint_id, 0)
                more = max(0, min(limit - running, len(self._lanes[endpoint_id])))
                self._lane_tasks[endpoint_id] = running + more
                starts += [endpoint_id] * more
        for endpoint_id in starts:
            self._pool.submit(self._run_lane, endpoint_id)

    def _run_lane(self, endpoint_id: int) -> None:
        """One claim of the endpoint's lane (sender threads), then back in the pool's queue if
        the lane has more; the task ends when its lane is empty."""
        while True:
            with self._lock:
                lane = self._lanes.get(endpoint_id)
                if not lane:
                    self._lane_tasks[endpoint_id] -= 1
                    return
                claim, ticket = lane.popleft()
            self._deliver(claim, ticket)
            try:
                self._pool.submit(self._run_lane, endpoint_id)
                return
            except RuntimeError:  # the pool is shutting down: finish the lane on this thread
                continue

    def _running_low(self) -> bool:
        """Whether the senders are running out of claimed events: few queued in all, or some
        endpoint being sent to has one round of its sends queued or less (call with
        ``self._lock`` held). Always so when idle or lightly loaded."""
        if self._unsent <= self.low_water:
            return True
        for endpoint_id, tasks in self._lane_tasks.items():
            destination = self._destinations.get(endpoint_id)
            if (
                tasks
                and destination is not None
                and len(self._lanes.get(endpoint_id, ())) <= destination.config.max_in_flight
            ):
                return True
        return False

    def _give_back_lane(self, destination: Destination) -> None:
        """Hand back the endpoint's queued claims unsent (its sender tasks find the lane empty)."""
        with self._lock:
            lane = self._lanes.get(destination.id)
            queued = list(lane or ())
            if lane:
                lane.clear()
            self._unsent -= len(queued)
        for claim, ticket in queued:
            destination.breaker.release(ticket)
            self._outcomes.put(claims.Outcome(claim, None, give_up_status=HELD))

    def _worth_a_turn(self, finished: int, running_low: bool) -> bool:
        """Whether a transaction now is worth its cost: the senders are running low, a batch
        of outcomes is waiting, or the oldest outcome has waited ``settle_within``."""
        if running_low or finished >= self.turn_batch:
            return True
        since = self._settle_since
        return finished > 0 and since is not None and time.monotonic() - since >= self.timing.settle_within

    def _take_outcomes(self) -> list[claims.Outcome]:
        taken = []
        while True:
            try:
                taken.append(self._outcomes.get_nowait())
            except queue.Empty:
                return taken

    def _keep_unexpired(self, finished: list[claims.Outcome], give_up: bool) -> list[claims.Outcome]:
        """Outcomes to retry writing; those whose lease ran out (or all, when stopping) are dropped:
        their events go back to the queue when the lease expires and are sent again."""
        now = utcnow()
        keep = [] if give_up else [o for o in finished if o.claim.lease_until > now]
        if len(keep) < len(finished):
            log.warning("dropping %s unrecorded outcome(s); their leases will expire", len(finished) - len(keep))
            with self._lock:
                self._in_flight -= len(finished) - len(keep)
                self._count_by_endpoint([], [o.claim for o in finished if o not in keep])
        return keep

    def _count_by_endpoint(self, claimed: list[claims.Claim], settled: list[claims.Claim]) -> None:
        """Attempts in flight per endpoint (call with ``self._lock`` held)."""
        for claim in claimed:
            self._in_flight_by[claim.endpoint_id] = self._in_flight_by.get(claim.endpoint_id, 0) + 1
        for claim in settled:
            self._in_flight_by[claim.endpoint_id] = self._in_flight_by.get(claim.endpoint_id, 0) - 1

    def _count(self, finished: list[claims.Outcome], kept: list[bool]) -> None:
        for outcome, holds in zip(finished, kept, strict=True):
            attempt = outcome.attempt
            if attempt is None:
                continue
            if not holds:
                label = "discarded"
            elif attempt.ok:
                label = "delivered"
            else:
                label = "failed" if outcome.next_attempt_at is None else "retry"
            self.metrics.attempt(label, attempt.duration_ms / 1000.0)

    # -- one attempt (sender threads) --------------------------------------------------------

    def _deliver(self, claim: claims.Claim, ticket: Ticket) -> None:
        with self._lock:
            self._unsent -= 1
        outcome = claims.Outcome(claim, None)
        destination = None
        label = str(claim.endpoint_id)
        try:
            destination = self.destination(claim.endpoint_id)
            if destination is None:
                # The endpoint was deleted meanwhile: its deliveries went with it.
                return
            breaker = destination.breaker
            label = destination.config.label
            if not destination.config.enabled:
                # Disabled meanwhile (by a 410 or through the API): held with its other deliveries.
                breaker.release(ticket)
                outcome = claims.Outcome(claim, None, give_up_status=HELD)
                attempt_log.held_back(claim, label, "the endpoint is disabled")
                return
            if self._stopping.is_set() or (not ticket.probe and breaker.state != BREAKER_CLOSED):
                # Shutting down, or the breaker opened meanwhile: no attempt, the delivery waits.
                breaker.release(ticket)
                attempt_log.held_back(
                    claim,
                    label,
                    "the worker is stopping" if self._stopping.is_set() else f"the circuit breaker is {breaker.state}",
                )
                return
            config = destination.config
            trace, traced = self.spans.start(claim, label)
            if destination.sender is None:
                record = claims.AttemptRecord(
                    utcnow(), None, 0, "the endpoint has no valid signing secret", None, False
                )
                result_retry_after, trips = None, False
            else:
                with destination.in_flight:
                    result = destination.sender.send(claim, trace)
                record, result_retry_after, trips = result.record, result.retry_after, result.trips_breaker
            traced(record)
            breaker.record(ticket, ok=not trips)
            next_at = None
            with self._lock:
                success, failure = self._outcome_times.get(claim.endpoint_id, (None, None))
                self._outcome_times[claim.endpoint_id] = (
                    (record.started_at, failure) if record.ok else (success, record.started_at)
                )
            if record.status_code == 410:
                # Gone: the endpoint is disabled with this outcome and the delivery held, not failed.
                destination.config = dataclasses.replace(config, enabled=False)
                log.warning(
                    "endpoint %s answered 410 Gone: disabling it",
                    config.label,
                    extra={"endpoint": config.label, "endpoint_id": config.id},
                )
                attempt_log.attempt_made(claim, label, trace, record, None, gone=True)
                # Its claims still queued are held unsent.
                self._give_back_lane(destination)
                outcome = claims.Outcome(claim, record, None, give_up_status=HELD)
                return
            if not record.ok:
                delay = next_delay(config.retry_schedule, claim.attempts_since_replay + 1, result_retry_after)
                if delay is not None:
                    next_at = utcnow() + dt.timedelta(seconds=delay)
            attempt_log.attempt_made(claim, label, trace, record, next_at)
            outcome = claims.Outcome(claim, record, next_at)
        except Exception:
            attempt_log.unexpected(claim, label)
            outcome = claims.Outcome(claim, None)
        finally:
            self._outcomes.put(outcome)
            with self._lock:
                low = self._running_low()
            # Only when a turn would act on it: every other finish is picked up by that turn.
            if self._worth_a_turn(self._outcomes.qsize() + len(self._to_settle), low):
                self.pacer.wake()

    # -- breaker reporting and maintenance ---------------------------------------------------

    def _label(self, endpoint_id: int) -> str:
        destination = self._destinations.get(endpoint_id)
        return destination.config.label if destination is not None else str(endpoint_id)

    def _breaker_changed(self, endpoint_id: int, snap: BreakerSnapshot, previous: str) -> None:
        label = self._label(endpoint_id)
        log.warning("circuit breaker for %s: %s -> %s (%s failures)", label, previous, snap.state, snap.failure_count)
        self.metrics.breaker_state(label, snap.state)
        try:
            with self._reporting:
                self.store.call(
                    reporting.record_transition, self.worker_id, str(endpoint_id), snap, previous, transaction=False
                )
        except Exception as exc:
            log.warning("could not save the breaker state: %s", exc)
        try:
            if snap.state == BREAKER_OPEN:
                self.store.call(raising.breaker_opened, endpoint_id, snap.failure_count)
            elif snap.state == BREAKER_CLOSED:
                self.store.call(raising.breaker_closed, endpoint_id)
        except Exception as exc:
            log.warning("could not raise the breaker notification: %s", exc)

    def _push_notifications(self) -> None:
        due = self.store.call(ops.claim_due, self.settings.delivery_lease_seconds, transaction=False)
        results = []
        for notification in due:
            ok = ops.send(self.ops_sender, notification)
            if not ok:
                log.warning("notification %s could not be pushed to the ops webhook", notification.id)
            results.append((notification.id, notification.ops_attempts, ok))
        if results:
            self.store.call(ops.settle, results, self.settings.retry_schedule)

    def _restore_outcome_times(self, times: dict) -> None:
        """A heartbeat that failed hands its times back, unless a newer outcome replaced them."""
        with self._lock:
            self._restore_locked(times)

    def _restore_locked(self, times: dict) -> None:
        for endpoint_id, (success, failure) in times.items():
            newer_success, newer_failure = self._outcome_times.get(endpoint_id, (None, None))
            self._outcome_times[endpoint_id] = (newer_success or success, newer_failure or failure)

    def _take_outcome_times(self) -> dict[int, tuple[dt.datetime | None, dt.datetime | None]]:
        with self._lock:
            taken, self._outcome_times = self._outcome_times, {}
        return taken

    def _maintenance_loop(self) -> None:
        next_retention = time.monotonic() + min(5.0, self.timing.retention_every)
        while not self._stopping.is_set():
            try:
                if not self._registered:
                    self.store.call(reporting.register_worker, self.worker_id)
                    self._registered = True
                self.load_endpoints()
                with self._destinations_lock:
                    destinations = list(self._destinations.values())
                times = self._take_outcome_times()
                with self._reporting:
                    # Read inside the lock, so a heartbeat never writes a state older than a
                    # transition saved just before it (transitions are reported outside the
                    # breakers' own locks, so this order cannot deadlock).
                    snaps = {}
                    for destination in destinations:
                        snap = destination.breaker.snapshot()
                        self.metrics.breaker_state(destination.config.label, snap.state)
                        snaps[str(destination.id)] = snap
                    try:
                        self.store.call(reporting.heartbeat, self.worker_id, snaps, times, transaction=False)
                    except Exception:
                        self._restore_outcome_times(times)
                        raise
                for endpoint_id in self.store.call(health.disable_failing, self.settings.endpoint_disable_after_hours):
                    log.warning(
                        "endpoint %s disabled: no success for %s hours while attempts failed",
                        endpoint_id,
                        self.settings.endpoint_disable_after_hours,
                    )
                if self.ops_sender is not None:
                    self._push_notifications()
                if self.store.call(claims.release_expired, transaction=False):
                    self.pacer.wake()
                self.metrics.backlog.set(self.store.call(claims.backlog, transaction=False))
                if time.monotonic() >= next_retention:
                    next_retention = time.monotonic() + self.timing.retention_every
                    pruned = retention.prune(
                        self.store.call, self.settings.outbox_retention_days, self._stopping.is_set
                    )
                    if pruned:
                        log.info("pruned %s delivered deliveries past retention", pruned)
            except Exception as exc:
                log.warning("delivery maintenance failed: %s", exc)
            self._stopping.wait(self.timing.heartbeat)
