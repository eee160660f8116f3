"""A worker's first breaker transition and its first heartbeat write the same row at once.

Both find no row, both insert it. On MariaDB the two inserts can deadlock; the loser must be
run again (``Store`` retries deadlocks), not lose its write: a lost transition is a hole in the
breaker history ops read.
"""

from __future__ import annotations

import threading

from core.db import utcnow
from pms_app.delivery import reporting
from pms_app.delivery.breaker import BreakerSnapshot
from pms_app.delivery.models import BreakerTransition
from pms_app.models import BreakerState

ENDPOINT = "1"  # breaker rows are keyed by the endpoint's id


def test_first_transition_and_first_heartbeat_racing_both_land(pms_db):
    store = pms_db.store
    for round_ in range(40):
        worker_id = f"racer-{round_}"
        store.call(reporting.register_worker, worker_id)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run(fn, *args, barrier=barrier, errors=errors) -> None:
            barrier.wait()
            try:
                store.call(fn, *args, transaction=False)  # the writes set their own isolation
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        opened = BreakerSnapshot("open", 3, utcnow())
        threads = [
            threading.Thread(target=run, args=(reporting.record_transition, worker_id, ENDPOINT, opened, "closed")),
            threading.Thread(
                target=run, args=(reporting.heartbeat, worker_id, {ENDPOINT: BreakerSnapshot("closed", 0, None)}, {})
            ),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors
        assert (
            store.call(lambda w=worker_id: BreakerTransition.select().where(BreakerTransition.worker_id == w).count())
            == 1
        )
        assert store.call(lambda w=worker_id: BreakerState.select().where(BreakerState.worker_id == w).count()) == 1
