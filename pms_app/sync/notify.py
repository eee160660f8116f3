"""Telling ops that a reconciliation run found drift.

``drift_found`` is the one place a run's drift is announced: a warning in the JSON log and a
``sync.drift`` notification (listed by ``GET /notifications``, shown on the dashboard, pushed
to ``OPS_WEBHOOK_URL``), with the run's counts as its data.
"""

from __future__ import annotations

import logging

from core.db import Store

from ..notifications import raising

log = logging.getLogger("guestsync.sync")


def drift_found(store: Store, run: dict) -> None:
    log.warning(
        "reconciliation found %s %s(s) out of step with the CRM: %s repaired, %s unrepairable",
        run["drifted"],
        run["kind"],
        run["repaired"],
        run["unrepairable"],
        extra={
            "sync_run": run["id"],
            "kind": run["kind"],
            "drifted": run["drifted"],
            "repaired": run["repaired"],
            "unrepairable": run["unrepairable"],
        },
    )
    store.call(raising.sync_drift, run)
