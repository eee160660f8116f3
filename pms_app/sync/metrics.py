"""``guestsync_sync_drift_entities{kind}``: the drift the latest completed run of each kind found.

Runs happen in whichever worker holds the lease, maybe another process, so the gauge is read
from the ``sync_run`` table when ``/metrics`` is scraped (one indexed query per kind), not kept
in the memory of the process that ran it. A kind never reconciled has no sample.
"""

from __future__ import annotations

from core.db import Store
from core.metrics import Metrics
from core.sync import KINDS

from .runs import latest_completed


def register_sync_metrics(metrics: Metrics, store: Store) -> None:
    drift = metrics.gauge(
        "guestsync_sync_drift_entities",
        "Guests or reservations out of step with the CRM in the latest completed reconciliation (repaired or not)",
        ("kind",),
    )

    async def refresh() -> None:
        for kind, run in (await store.run(latest_completed, KINDS)).items():
            drift.labels(kind).set(run["drifted"])

    metrics.before_scrape(refresh)
