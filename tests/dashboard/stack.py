"""The real PMS and CRM applications on the test databases, served on local ports, for the
dashboard's triage-page tests (no delivery worker: tests set delivery states themselves).

``Stack`` also writes what the pages show straight into the PMS database: a delivery's status
and last answer, its attempts, breaker transitions, notifications, and reads back what actions
did (a delivery's replay mark, audit entries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.db import Store, utcnow
from crm_app.app import make_app as make_crm_app
from crm_app.config import CrmSettings
from pms_app.app import make_app as make_pms_app
from pms_app.config import PmsSettings
from pms_app.delivery.models import BreakerTransition
from pms_app.models import AuditEntry, Delivery, DeliveryAttempt
from pms_app.notifications.models import Notification
from tests.support.delivery import SECRET, add_event

from .support import serve_app


@dataclass
class Stack:
    pms_store: Store
    crm_store: Store
    pms_url: str
    crm_url: str
    servers: tuple

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def event(self, entity_id: int = 1, kind: str = "guest", action: str = "updated", version: int = 1) -> str:
        return add_event(self.pms_store, entity_id=entity_id, version=version, kind=kind, action=action)

    def set_delivery(self, event_id: str, endpoint_id: int = 1, **fields: Any) -> None:
        self.pms_store.call(
            lambda: (
                Delivery.update(**fields)
                .where((Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id))
                .execute()
            )
        )

    def delivery(self, event_id: str, endpoint_id: int = 1) -> Delivery:
        return self.pms_store.call(
            lambda: Delivery.get((Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id))
        )

    def fail(
        self,
        event_id: str,
        endpoint_id: int = 1,
        attempts: int = 3,
        code: int = 500,
        error: str = "HTTP 500",
        body: str = "nope",
    ) -> None:
        """The delivery gave up after ``attempts`` attempts answered ``code`` with ``body``."""

        def write():
            delivery = Delivery.get((Delivery.event_id == event_id) & (Delivery.endpoint_id == endpoint_id))
            for n in range(1, attempts + 1):
                DeliveryAttempt.create(
                    event_id=event_id,
                    delivery_id=delivery.id,
                    attempt=n,
                    started_at=utcnow(),
                    status_code=code,
                    duration_ms=20 * n,
                    error=error,
                    response_body=body,
                )
            Delivery.update(status="failed", attempt_count=attempts, last_error=error, last_status_code=code).where(
                Delivery.id == delivery.id
            ).execute()

        self.pms_store.call(write)

    def transition(self, endpoint_id: int, from_state: str, to_state: str) -> None:
        self.pms_store.call(
            lambda: BreakerTransition.create(
                worker_id="worker-a",
                endpoint=str(endpoint_id),
                from_state=from_state,
                to_state=to_state,
                failure_count=5,
                at=utcnow(),
            )
        )

    def notify(self, kind: str, endpoint_id: int | None, data: dict) -> int:
        return self.pms_store.call(
            lambda: Notification.create(type=kind, endpoint_id=endpoint_id, data=data, created_at=utcnow()).id
        )

    def audit(self) -> list[tuple]:
        return self.pms_store.call(
            lambda: [(a.operator, a.action, a.target, a.details) for a in AuditEntry.select().order_by(AuditEntry.id)]
        )

    def age(self, event_id: str, minutes: float, endpoint_id: int = 1) -> None:
        self.set_delivery(event_id, endpoint_id, created_at=utcnow() - dt.timedelta(minutes=minutes))


def start_stack(pms_store: Store, crm_store: Store, **pms_overrides: Any) -> Stack:
    crm_server, crm_url = serve_app(make_crm_app(CrmSettings(webhook_secrets=(SECRET,)), store=crm_store))
    settings = PmsSettings(
        crm_webhook_url=crm_url + "/api/v1/webhooks/pms", crm_webhook_secrets=(SECRET,), **pms_overrides
    )
    pms_server, pms_url = serve_app(make_pms_app(settings, store=pms_store))
    return Stack(pms_store, crm_store, pms_url, crm_url, (pms_server, crm_server))
