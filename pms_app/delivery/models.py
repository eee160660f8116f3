"""Tables the delivery worker adds to the PMS schema (migration 002).

``DeliveryWorker`` is one row per worker process: its heartbeat and the times of its last
successful and last failed attempt, read by the status route. The breaker itself is reported in
``breaker_state`` (``pms_app.models.BreakerState``), one row per worker and endpoint.
"""

from __future__ import annotations

import peewee as pw

from core.db import IdField, UtcDateTimeField, utcnow

from ..models import BaseModel


class DeliveryWorker(BaseModel):
    id = IdField()
    worker_id = pw.CharField(max_length=64, unique=True)
    started_at = UtcDateTimeField(default=utcnow)
    heartbeat_at = UtcDateTimeField(default=utcnow, index=True)
    last_success_at = UtcDateTimeField(null=True)
    last_failure_at = UtcDateTimeField(null=True)
    stopped_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "delivery_worker"
