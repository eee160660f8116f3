"""``make_app(settings)``: the PMS API as a Tornado application."""

from __future__ import annotations

import logging
from collections.abc import Callable

import tornado.web

from core import sync_api
from core.app import api_application, open_store
from core.db import DatabaseUnavailable, Store
from core.metrics import Metrics

from . import graphql, openapi
from .config import PmsSettings
from .endpoints import crm
from .handlers import audit, deliveries, endpoints, guests, notifications, reservations, sync_runs
from .models import db
from .services.endpoint_activity import AttemptMinutes
from .services.outbox_counts import OutboxCounts
from .sync.metrics import register_sync_metrics
from .sync.source import PmsSyncSource

log = logging.getLogger("guestsync.pms")


def make_store(settings: PmsSettings) -> Store:
    store = open_store(
        settings.database_url, settings.db_threads, "pms", extra_connections=settings.delivery_concurrency + 4
    )
    db.initialize(store.database)
    return store


def make_app(
    settings: PmsSettings,
    store: Store | None = None,
    metrics: Metrics | None = None,
    wake_delivery: Callable[[], None] | None = None,
) -> tornado.web.Application:
    """The PMS API; ``wake_delivery`` is called after each committed change (the in-process
    delivery worker's ``wake``), so events go out at once rather than at the next poll."""
    store = store or make_store(settings)
    db.initialize(store.database)
    # Endpoint 1 follows CRM_WEBHOOK_URL / CRM_WEBHOOK_SECRET, once, at start (a worker does too).
    try:
        store.call(crm.sync, settings.crm_webhook_url, settings.crm_webhook_secrets)
    except DatabaseUnavailable as exc:  # the API starts anyway and answers 503 meanwhile
        log.warning("could not bring endpoint 1 in step with the configuration: %s", exc)
    metrics = metrics or Metrics("pms")
    register_sync_metrics(metrics, store)
    routes = [
        *audit.default_handlers,
        *deliveries.default_handlers,
        *endpoints.default_handlers,
        *guests.default_handlers,
        *notifications.default_handlers,
        *reservations.default_handlers,
        *sync_runs.default_handlers,
        *sync_api.default_handlers,
        *graphql.default_handlers,
    ]
    return api_application(
        "pms",
        settings.base_path,
        routes,
        config=settings,
        store=store,
        metrics=metrics,
        api_token=settings.api_token,
        max_body_bytes=settings.max_body_bytes,
        openapi=openapi.document,
        outbox_counts=OutboxCounts(),
        attempt_minutes=AttemptMinutes(),
        wake_delivery=wake_delivery,
        sync_source=PmsSyncSource(store.database),
    )
