"""Telling ops that a reconciliation run found drift.

``drift_found`` is the one place a run's drift is announced. Today it logs a warning (JSON
log line with the run's counts); once the PMS has operational notifications, this is where the
``sync.drift`` notification is raised, with the run as its data.
"""

from __future__ import annotations

import logging

log = logging.getLogger("guestsync.sync")


def drift_found(run: dict) -> None:
    log.warning("reconciliation found %s %s(s) out of step with the CRM: %s repaired, %s unrepairable",
                run["drifted"], run["kind"], run["repaired"], run["unrepairable"],
                extra={"sync_run": run["id"], "kind": run["kind"], "drifted": run["drifted"],
                       "repaired": run["repaired"], "unrepairable": run["unrepairable"]})
