"""Running delivery workers in tests: settings with short timings, events written like the API does."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from core.db import Store, utcnow
from pms_app.config import PmsSettings
from pms_app.delivery.worker import DeliveryWorker, WorkerTiming
from pms_app.models import CRM_ENDPOINT_ID, Delivery
from pms_app.outbox import record_event

FAST = WorkerTiming(poll_min=0.002, poll_max=0.02, heartbeat=0.1, retention_every=3600, db_retry=0.05)
SECRET = "test-secret-one"

# The fields of a delivery summary, as the API and the command line list it.
SUMMARY_KEYS = {
    "id",
    "seq",
    "type",
    "status",
    "entity_id",
    "entity_version",
    "attempt_count",
    "next_attempt_at",
    "created_at",
    "delivered_at",
    "endpoint_id",
    "last_error",
    "last_status_code",
}


def delivery_settings(url: str, **overrides) -> PmsSettings:
    base = PmsSettings(
        crm_webhook_url=url,
        crm_webhook_secrets=(SECRET,),
        retry_schedule=(0, 0),
        delivery_timeout_seconds=2.0,
        delivery_lease_seconds=30,
        delivery_concurrency=4,
        breaker_failure_threshold=50,
        breaker_recovery_seconds=1,
    )
    return dataclasses.replace(base, **overrides)


@contextlib.contextmanager
def running_worker(
    settings: PmsSettings, store: Store, timing: WorkerTiming = FAST, **kwargs
) -> Iterator[DeliveryWorker]:
    worker = DeliveryWorker(settings, store, timing=timing, **kwargs).start()
    try:
        yield worker
    finally:
        worker.stop()


def add_event(store: Store, entity_id: int = 1, version: int = 1, kind: str = "guest", action: str = "updated") -> str:
    """Write one outbox event the way a committed change does; returns its id."""

    def write() -> str:
        now = utcnow()
        payload = {
            "id": entity_id,
            "email": f"g{entity_id}@example.com",
            "name": f"Guest {entity_id}",
            "version": version,
        }
        return record_event(f"{kind}.{action}", entity_id, version, payload, now).id

    return store.call(write)


def event(store: Store, event_id: str, endpoint_id: int = CRM_ENDPOINT_ID) -> Delivery:
    """The event's delivery to one endpoint (the CRM unless told otherwise)."""
    return store.call(lambda: Delivery.get((Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id)))


def statuses(store: Store, endpoint_id: int = CRM_ENDPOINT_ID) -> dict[str, str]:
    """Status of each event's delivery to one endpoint (the CRM unless told otherwise)."""
    return store.call(
        lambda: {
            d.event_id: d.status
            for d in Delivery.select(Delivery.event_id, Delivery.status).where(Delivery.endpoint_id == endpoint_id)
        }
    )
