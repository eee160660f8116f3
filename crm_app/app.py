"""``make_app(settings)``: the CRM API as a Tornado application."""

from __future__ import annotations

import tornado.web

from core import sync_api
from core.app import api_application, open_store
from core.db import Store
from core.metrics import Metrics

from . import graphql, openapi
from .batching import GroupCommitter
from .changes import ChangeFeed
from .config import CrmSettings
from .handlers import events, profiles, rejections, webhooks
from .models import db
from .services.receiver import receive_batch
from .services.rejections import insert_rejections
from .services.sync_source import CrmSyncSource
from .telemetry import WebhookMetrics

# Rejections waiting to be written beyond this are only counted (a flood must not eat memory).
MAX_PENDING_REJECTIONS = 10_000


def make_store(settings: CrmSettings) -> Store:
    store = open_store(settings.database_url, settings.db_threads, "crm")
    db.initialize(store.database)
    return store


def make_app(
    settings: CrmSettings, store: Store | None = None, metrics: Metrics | None = None
) -> tornado.web.Application:
    store = store or make_store(settings)
    db.initialize(store.database)
    metrics = metrics or Metrics("crm")
    routes = [
        *webhooks.default_handlers,
        *rejections.default_handlers,
        *events.default_handlers,
        *profiles.default_handlers,
        *sync_api.default_handlers,
        *graphql.default_handlers,
    ]
    # Fed after each committed receiver batch; GraphQL subscriptions listen to it.
    change_feed = ChangeFeed(store)
    return api_application(
        "crm",
        settings.base_path,
        routes,
        config=settings,
        store=store,
        metrics=metrics,
        api_token=settings.api_token,
        max_body_bytes=settings.max_body_bytes,
        openapi=openapi.document,
        webhook_keys=settings.webhook_keys,
        sync_source=CrmSyncSource(store.database),
        webhook_metrics=WebhookMetrics(metrics),
        receiver=GroupCommitter(
            store,
            receive_batch,
            max_batch=settings.receiver_batch_max,
            writers=settings.receiver_writers,
            name="receiver",
            on_commit=change_feed.committed,
        ),
        change_feed=change_feed,
        rejection_log=GroupCommitter(
            store,
            insert_rejections,
            max_batch=500,
            writers=1,
            max_pending=MAX_PENDING_REJECTIONS,
            transaction=True,
            name="rejections",
        ),
    )
