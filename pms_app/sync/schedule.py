"""Reconciling every ``RECONCILE_EVERY_SECONDS`` inside delivery workers, one at a time.

Every delivery worker runs a ``ReconcileSchedule`` on a thread of its own (a run takes seconds
and must not delay the worker's heartbeat). Each one looks at the shared schedule every
``check_every`` seconds; when a run is due, the worker that takes the database lease (see
``lease.py``) runs it and sets the next due time; the others find the lease taken or the run
no longer due. A fresh deployment runs its first reconciliation one period after a worker
first starts. ``RECONCILE_EVERY_SECONDS=0`` turns the schedule off (``python -m pms_app
reconcile`` still works).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from core.db import Store, utcnow
from core.sync import KINDS

from ..config import PmsSettings
from . import lease
from .crm_client import CrmSyncClient
from .service import SCHEDULE, Interrupted, reconcile

log = logging.getLogger("guestsync.sync")

CHECK_EVERY_SECONDS = 30.0


class LeaseKeeper:
    """Renews a held lease while a run works, at most every third of its length; raises
    ``Interrupted`` once the lease is lost or ``should_stop()`` turns true."""

    def __init__(
        self,
        store: Store,
        holder: str,
        lease_seconds: float,
        should_stop: Callable[[], bool] = lambda: False,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.store = store
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.should_stop = should_stop
        self.clock = clock
        self._renewed = time.monotonic()

    def __call__(self) -> None:
        if self.should_stop():
            raise Interrupted("the worker is stopping")
        if time.monotonic() - self._renewed < self.lease_seconds / 3:
            return
        if not self.store.call(lease.renew, self.holder, self.clock(), self.lease_seconds):
            raise Interrupted("the reconciliation lease was taken over by another process")
        self._renewed = time.monotonic()


class ReconcileSchedule:
    def __init__(
        self,
        settings: PmsSettings,
        store: Store,
        holder: str,
        wake: Callable[[], None] | None = None,
        check_every: float = CHECK_EVERY_SECONDS,
        lease_seconds: float = lease.LEASE_SECONDS,
        clock: Callable[[], dt.datetime] = utcnow,
        crm_factory: Callable[[], object] | None = None,
    ):
        self.settings = settings
        self.store = store
        self.holder = holder
        self.wake = wake
        self.check_every = check_every
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.crm_factory = crm_factory or (lambda: CrmSyncClient(settings.crm_api_base, settings.crm_api_token))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.reconcile_every_seconds > 0

    def start(self) -> ReconcileSchedule:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="reconcile-schedule", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop looking at the schedule; a run in progress stops at its next step."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.wait(self.check_every):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the database may be down; try next time
                log.warning("reconciliation schedule check failed: %s", exc)

    def tick(self) -> list[dict] | None:
        """One look at the schedule: run if due and the lease is ours; returns the runs or None."""
        every = self.settings.reconcile_every_seconds
        if every <= 0:
            return None
        self.store.call(lease.keep_schedule, self.clock(), every)
        if not self.store.call(lease.acquire, self.holder, self.clock(), self.lease_seconds, True):
            return None
        crm = self.crm_factory()
        try:
            keeper = LeaseKeeper(self.store, self.holder, self.lease_seconds, self._stopping.is_set, self.clock)
            return reconcile(self.store, crm, KINDS, trigger=SCHEDULE, keep_alive=keeper, wake=self.wake)
        finally:
            getattr(crm, "close", lambda: None)()
            self.store.call(lease.release, self.holder, self.clock() + dt.timedelta(seconds=every))
