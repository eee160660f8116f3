"""The ``notification`` table. ``ops_*`` columns track the push to ``OPS_WEBHOOK_URL``: they
are the worker's bookkeeping and never shown."""

from __future__ import annotations

import peewee as pw

from core.contract import DELIVERY_FAILED, SYNC_DRIFT  # noqa: F401 - re-exported with the local names
from core.contract import ENDPOINT_DISABLED, ENDPOINT_FAILING, ENDPOINT_RECOVERED, NOTIFICATION_TYPES
from core.db import IdField, JSONTextField, UtcDateTimeField, iso, utcnow

from ..models import BaseModel

FAILING, RECOVERED, DISABLED = ENDPOINT_FAILING, ENDPOINT_RECOVERED, ENDPOINT_DISABLED
TYPES = NOTIFICATION_TYPES
OPS_PENDING, OPS_SENT, OPS_FAILED = "pending", "sent", "failed"


class Notification(BaseModel):
    id = IdField()
    type = pw.CharField(max_length=32)
    endpoint_id = pw.BigIntegerField(null=True)
    data = JSONTextField()
    created_at = UtcDateTimeField(default=utcnow)
    ops_status = pw.CharField(max_length=16, default=OPS_PENDING)
    ops_attempts = pw.IntegerField(default=0)
    ops_next_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "notification"

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "endpoint_id": self.endpoint_id,
            "data": self.data or {},
            "created_at": iso(self.created_at),
        }
