"""Where each endpoint's deliveries stand, read for the metrics in one query per scrape.

``endpoint_queue()`` answers, for every endpoint: how many of its deliveries are ``failed``
(retries exhausted, waiting for a replay) and when the oldest of its undelivered ones (pending or
in flight) was queued. Every part is an index seek on ``(endpoint_id, status, id)``: the count
reads the endpoint's failed entries of that index, and the oldest undelivered delivery is the
one with the lowest id (ids grow with time), so a backlog of any size costs the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..models import DELIVERING, FAILED, PENDING, Delivery, db


@dataclass(frozen=True)
class EndpointQueue:
    endpoint: str                          # the endpoint's name, as logs and metrics call it
    failed: int
    oldest_undelivered: dt.datetime | None


def _oldest(status: str) -> str:
    return (f"(SELECT created_at FROM delivery WHERE id = (SELECT MIN(d.id) FROM delivery d "
            f"WHERE d.endpoint_id = e.id AND d.status = '{status}'))")


QUEUE_SQL = (f"SELECT e.name, (SELECT COUNT(*) FROM delivery d WHERE d.endpoint_id = e.id "
             f"AND d.status = '{FAILED}'), {_oldest(PENDING)}, {_oldest(DELIVERING)} FROM endpoint e")


def endpoint_queue() -> list[EndpointQueue]:
    when = Delivery.created_at.python_value
    found = []
    for name, failed, pending, delivering in db.execute_sql(QUEUE_SQL).fetchall():
        queued = [t for t in (when(pending), when(delivering)) if t is not None]
        found.append(EndpointQueue(name, int(failed or 0), min(queued, default=None)))
    return found
