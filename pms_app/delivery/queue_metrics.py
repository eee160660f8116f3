"""Where each endpoint's deliveries stand, read for the metrics before each scrape.

``endpoint_queue()`` answers, for every endpoint: how many of its deliveries are ``failed``
(retries exhausted, waiting for a replay) and when the oldest of its undelivered ones (pending or
in flight) was queued, through the same figures as the health page (``endpoint_health``): three
queries per scrape, each an index seek per endpoint on ``(endpoint_id, status, id)``, so a
backlog of any size costs the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..endpoints.models import Endpoint
from ..models import FAILED
from ..services.endpoint_health import delivery_counts, oldest_undelivered


@dataclass(frozen=True)
class EndpointQueue:
    endpoint: str  # the endpoint's name, as logs and metrics call it
    failed: int
    oldest_undelivered: dt.datetime | None


def endpoint_queue() -> list[EndpointQueue]:
    endpoints = list(Endpoint.select(Endpoint.id, Endpoint.name).order_by(Endpoint.id).tuples())
    failed = delivery_counts([endpoint_id for endpoint_id, _ in endpoints], statuses=(FAILED,))
    oldest = oldest_undelivered()
    return [
        EndpointQueue(name, failed[endpoint_id][FAILED], oldest.get(endpoint_id)) for endpoint_id, name in endpoints
    ]
