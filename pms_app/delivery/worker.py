"""The delivery worker: claim due outbox events, send them, record every attempt.

Threads, never the API's IOLoop:

* the dispatcher, in one short transaction per turn, settles the outcomes the senders handed
  back (attempt rows; delivered / retry later / failed; fenced by the claim) and claims as many
  due events as there are free sending slots (one probe when the breaker is half-open, none
  while it is open). Batching the writes this way costs one commit per turn, not per event.
  It turns again at once after finding work, polls every ``poll_min`` seconds while work came
  recently (``busy_window``) and backs off to ``poll_max`` when idle;
* ``DELIVERY_CONCURRENCY`` sender threads each make one signed attempt at a time;
* the maintenance thread heartbeats the worker's rows, takes over expired leases and prunes
  delivered events past retention;
* the reconciliation schedule (``pms_app.sync.schedule``), on its own thread, reconciles with
  the CRM every ``RECONCILE_EVERY_SECONDS`` when this worker holds the lease.

``stop()`` is the graceful shutdown: no new claims, in-flight attempts finish and are recorded,
anything claimed but not yet sent is released (back to ``pending``, lease cleared).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from core.config import redact_url
from core.db import Store, utcnow
from core.metrics import Metrics
from core.signing import keys_from_secrets

from ..config import PmsSettings
from ..sync.schedule import ReconcileSchedule
from . import claims, reporting, retention
from .breaker import BreakerSnapshot, EndpointBreaker, Ticket
from .metrics import DeliveryMetrics
from .retry import next_delay
from .sender import Sender

log = logging.getLogger("guestsync.delivery")


@dataclass(frozen=True)
class WorkerTiming:
    """Pacing of the worker's loops (seconds); tests and benchmarks shorten them."""

    poll_min: float = 0.005
    poll_max: float = 0.1
    busy_window: float = 1.0
    heartbeat: float = 1.0
    retention_every: float = 300.0
    db_retry: float = 0.5


def new_worker_id() -> str:
    host = socket.gethostname().split(".")[0][:32] or "worker"
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class DeliveryWorker:
    def __init__(self, settings: PmsSettings, store: Store, metrics: Metrics | None = None,
                 worker_id: str | None = None, timing: WorkerTiming = WorkerTiming()):
        self.settings = settings
        self.store = store
        self.timing = timing
        self.worker_id = worker_id or new_worker_id()
        self.endpoint = redact_url(settings.crm_webhook_url)
        self.metrics = DeliveryMetrics(metrics or Metrics("pms-worker"))
        self.sender = Sender(settings.crm_webhook_url, keys_from_secrets(settings.crm_webhook_secrets),
                             settings.delivery_timeout_seconds, denied=settings.endpoint_denied_networks)
        self.breaker = EndpointBreaker(self.endpoint, settings.breaker_failure_threshold,
                                       settings.breaker_recovery_seconds,
                                       on_change=self._breaker_changed, owner=self.worker_id)
        self.concurrency = settings.delivery_concurrency
        # Claimed but unsettled events per worker: twice the senders, so senders always have the
        # next event ready while the dispatcher's transaction runs (claims wait in the pool queue).
        self.max_unsettled = 2 * self.concurrency
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency,
                                        thread_name_prefix="delivery-send")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._wake = threading.Event()
        self._outcomes: queue.SimpleQueue[claims.Outcome] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._last_success_at: dt.datetime | None = None
        self._last_failure_at: dt.datetime | None = None
        self._threads: list[threading.Thread] = []
        self._registered = False
        # This worker's breaker row is written by the heartbeat and by every transition, from
        # different threads: one writer at a time, so a heartbeat never overwrites the state a
        # transition has just saved with an older snapshot.
        self._reporting = threading.Lock()
        self.reconcile = ReconcileSchedule(settings, store, self.worker_id, wake=self.wake)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "DeliveryWorker":
        for name, target in (("delivery-dispatch", self._dispatch_loop),
                             ("delivery-maintenance", self._maintenance_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.reconcile.start()
        log.info("delivery worker %s started: endpoint %s, concurrency %s",
                 self.worker_id, self.endpoint, self.concurrency)
        return self

    def wake(self) -> None:
        """New events were committed: claim now instead of at the next poll (thread-safe)."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Stop claiming, let in-flight attempts finish (or release them), then leave."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake.set()
        self.reconcile.stop()
        for thread in self._threads:   # the dispatcher leaves once every claim is settled
            thread.join()
        self._pool.shutdown(wait=True)
        if self._registered:
            try:
                self.store.call(reporting.unregister_worker, self.worker_id)
            except Exception:  # the database may be gone; the heartbeat simply ages out
                log.warning("could not unregister delivery worker %s", self.worker_id)
        self.sender.close()
        log.info("delivery worker %s stopped", self.worker_id)

    # -- dispatching -------------------------------------------------------------------------

    def _dispatch_loop(self) -> None:
        """Settle what the senders finished and claim new work, one short transaction per turn."""
        idle_wait = self.timing.poll_min
        last_work = 0.0
        finished: list[claims.Outcome] = []
        while True:
            self._wake.clear()
            finished += self._take_outcomes()
            stopping = self._stopping.is_set()
            with self._lock:
                unsettled = self._in_flight
            if stopping and unsettled == 0:
                break
            # Outcomes settled in this turn free their slots in the same turn.
            free = 0 if stopping else self.max_unsettled - (unsettled - len(finished))
            ticket = self.breaker.admit() if free > 0 else None
            limit = (1 if ticket.probe else free) if ticket else 0
            wait = self.timing.poll_max
            batch: list[claims.Claim] = []
            if finished or limit:
                try:
                    kept, batch = self.store.call(claims.cycle, self.worker_id, finished, limit,
                                                  self.settings.delivery_lease_seconds, transaction=False)
                except Exception as exc:  # DatabaseUnavailable, or anything unexpected: keep going
                    if ticket:
                        self.breaker.release(ticket)
                    log.warning("settling/claiming failed: %s", exc)
                    finished = self._keep_unexpired(finished, give_up=stopping)
                    self._wake.wait(self.timing.db_retry)
                    continue
                self._count(finished, kept)
                with self._lock:
                    self._in_flight += len(batch) - len(finished)
                finished = []
                for claim in batch:
                    self._pool.submit(self._deliver, claim, ticket)
            if ticket and not batch:
                self.breaker.release(ticket)
            if batch:
                idle_wait = self.timing.poll_min
                last_work = time.monotonic()
                continue
            if free > 0 and ticket is None:
                # Open breaker: nothing is claimed until the probe may go.
                wait = min(max(self.breaker.seconds_until_probe(), self.timing.poll_min), self.timing.poll_max)
            elif free > 0 and time.monotonic() - last_work < self.timing.busy_window:
                wait = self.timing.poll_min     # busy lately: the next event is likely moments away
            elif free > 0:
                wait = idle_wait
                idle_wait = min(idle_wait * 2, self.timing.poll_max)
            self._wake.wait(wait)

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
        return keep

    def _count(self, finished: list[claims.Outcome], kept: list[bool]) -> None:
        for outcome, holds in zip(finished, kept):
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
        outcome = claims.Outcome(claim, None)
        try:
            if self._stopping.is_set() or (not ticket.probe and self.breaker.state != "closed"):
                # Shutting down, or the breaker opened meanwhile: no attempt, the event waits.
                self.breaker.release(ticket)
                return
            result = self.sender.send(claim)
            self.breaker.record(ticket, ok=not result.trips_breaker)
            record = result.record
            next_at = None
            if record.ok:
                self._last_success_at = record.started_at
            else:
                self._last_failure_at = record.started_at
                delay = next_delay(self.settings.retry_schedule, claim.attempts_since_replay + 1,
                                   result.retry_after)
                if delay is not None:
                    next_at = utcnow() + dt.timedelta(seconds=delay)
                log.info("delivery of %s failed (%s): %s", claim.id,
                         "retry" if next_at else "giving up", record.error)
            outcome = claims.Outcome(claim, record, next_at)
        except Exception:
            log.exception("delivering %s failed unexpectedly; it goes back to the queue", claim.id)
            outcome = claims.Outcome(claim, None)
        finally:
            self._outcomes.put(outcome)
            self._wake.set()

    # -- breaker reporting and maintenance ---------------------------------------------------

    def _breaker_changed(self, snap: BreakerSnapshot, previous: str) -> None:
        log.warning("circuit breaker for %s: %s -> %s (%s failures)",
                    self.endpoint, previous, snap.state, snap.failure_count)
        self.metrics.breaker_state(self.endpoint, snap.state)
        try:
            with self._reporting:
                self.store.call(reporting.record_transition, self.worker_id, self.endpoint, snap, previous)
        except Exception as exc:
            log.warning("could not save the breaker state: %s", exc)

    def _maintenance_loop(self) -> None:
        next_retention = time.monotonic() + min(5.0, self.timing.retention_every)
        while not self._stopping.is_set():
            try:
                if not self._registered:
                    self.store.call(reporting.register_worker, self.worker_id)
                    self._registered = True
                with self._reporting:
                    # Read inside the lock, so a heartbeat never writes a state older than a
                    # transition saved just before it (transitions are reported outside the
                    # breaker's own lock, so this order cannot deadlock).
                    snap = self.breaker.snapshot()
                    self.metrics.breaker_state(self.endpoint, snap.state)
                    self.store.call(reporting.heartbeat, self.worker_id, self.endpoint, snap,
                                    self._last_success_at, self._last_failure_at)
                if self.store.call(claims.release_expired, transaction=False):
                    self._wake.set()
                self.metrics.backlog.set(self.store.call(claims.backlog, transaction=False))
                if time.monotonic() >= next_retention:
                    next_retention = time.monotonic() + self.timing.retention_every
                    pruned = retention.prune(self.store.call, self.settings.outbox_retention_days,
                                             self._stopping.is_set)
                    if pruned:
                        log.info("pruned %s delivered event(s) past retention", pruned)
            except Exception as exc:
                log.warning("delivery maintenance failed: %s", exc)
            self._stopping.wait(self.timing.heartbeat)
