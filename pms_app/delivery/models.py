"""Tables the delivery worker adds to the PMS schema (migrations 002 and 004).

``WorkerRecord`` is one row per worker process (table ``delivery_worker``): its heartbeat and
the times of its last successful and last failed attempt, read by the status route. The worker
itself is ``pms_app.delivery.worker.DeliveryWorker``. ``BreakerTransition`` is the history of
every breaker's state changes, so ops can see when and how often the CRM failed. The breaker
itself is reported in ``breaker_state`` (``pms_app.models.BreakerState``), one row per worker
and endpoint.
"""

from __future__ import annotations

import peewee as pw

from core.db import IdField, UtcDateTimeField, iso, utcnow

from ..models import BaseModel


class WorkerRecord(BaseModel):
    id = IdField()
    worker_id = pw.CharField(max_length=64, unique=True)
    started_at = UtcDateTimeField(default=utcnow)
    heartbeat_at = UtcDateTimeField(default=utcnow, index=True)
    last_success_at = UtcDateTimeField(null=True)
    last_failure_at = UtcDateTimeField(null=True)
    stopped_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "delivery_worker"


class BreakerTransition(BaseModel):
    id = IdField()
    worker_id = pw.CharField(max_length=64)
    endpoint = pw.CharField(max_length=512)
    from_state = pw.CharField(max_length=16)
    to_state = pw.CharField(max_length=16)
    failure_count = pw.IntegerField(default=0)
    at = UtcDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "breaker_transition"

    def to_api(self) -> dict:
        return {
            "worker_id": self.worker_id,
            "from": self.from_state,
            "to": self.to_state,
            "failure_count": self.failure_count,
            "at": iso(self.at),
        }
