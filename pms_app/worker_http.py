"""The standalone delivery worker's own HTTP surface on ``WORKER_METRICS_PORT``.

``python -m pms_app worker`` serves no API, so without this its delivery metrics would be kept
in a registry nobody can scrape. It answers ``/metrics`` (its own registry: delivery counters,
breaker state, process collectors), ``/health`` (the database answers) and ``/ready`` (and every
PMS migration is applied), with the same handlers and conventions as the API services.
"""

from __future__ import annotations

import tornado.web

from core.app import api_application
from core.db import Store
from core.metrics import Metrics

from .config import PmsSettings

WORKER_SERVICE = "pms-worker"


def make_worker_app(settings: PmsSettings, store: Store, metrics: Metrics) -> tornado.web.Application:
    """``/health``, ``/ready`` and ``/metrics`` at the root; anything else is the JSON 404."""
    return api_application(
        WORKER_SERVICE,
        "",
        [],
        config=settings,
        store=store,
        metrics=metrics,
        api_token=None,  # as on the API services, probes and /metrics are never behind a token
        max_body_bytes=1024,
        migrations="pms",
    )
