"""Tables reconciliation adds to the PMS schema (migrations 008-010).

``Tombstone``: one row per deleted guest or reservation, ``{kind, entity_id, version,
deleted_at}`` (plus the reservation's ``guest_id``, which its ``reservation.deleted`` event
carries), written in the transaction of the delete and kept for good: the CRM keeps its own
tombstones for good, and a PMS tombstone pruned earlier would make the CRM's look like an
entity the PMS never had. ``SyncRun``: one row per reconciliation run and kind. ``SyncLease``:
one row per lease name, held by at most one process at a time, with the schedule's next due time.
"""

from __future__ import annotations

import peewee as pw

from core.contract import SYNC_ABANDONED, SYNC_COMPLETED, SYNC_FAILED, SYNC_RUNNING
from core.db import IdField, JSONTextField, UtcDateTimeField, iso, utcnow

from ..models import BaseModel

RUNNING, COMPLETED, FAILED, ABANDONED = SYNC_RUNNING, SYNC_COMPLETED, SYNC_FAILED, SYNC_ABANDONED


class Tombstone(BaseModel):
    kind = pw.CharField(max_length=16)
    entity_id = pw.BigIntegerField()
    version = pw.IntegerField()
    deleted_at = UtcDateTimeField()
    guest_id = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "tombstone"
        primary_key = pw.CompositeKey("kind", "entity_id")
        indexes = ((("kind", "entity_id", "version"), False),)  # covers the digest read


class SyncRun(BaseModel):
    id = IdField()
    kind = pw.CharField(max_length=16)
    trigger = pw.CharField(max_length=16)  # schedule | command
    dry_run = pw.BooleanField(default=False)
    status = pw.CharField(max_length=16, default=RUNNING)
    started_at = UtcDateTimeField(default=utcnow)
    finished_at = UtcDateTimeField(null=True)
    compared = pw.BigIntegerField(default=0)
    drifted = pw.BigIntegerField(default=0)
    repaired = pw.BigIntegerField(default=0)
    unrepairable = pw.BigIntegerField(default=0)
    in_flight = pw.BigIntegerField(default=0)
    requests = pw.IntegerField(default=0)
    error = pw.TextField(null=True)
    # The first unrepairable entities found (at most 100), for the operator to look at.
    findings = JSONTextField(null=True)

    class Meta:
        table_name = "sync_run"
        indexes = ((("kind", "status", "id"), False),)  # the latest completed run per kind

    def to_api(self) -> dict:
        return {
            "id": self.id,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "kind": self.kind,
            "compared": self.compared,
            "drifted": self.drifted,
            "repaired": self.repaired,
            "unrepairable": self.unrepairable,
            "status": self.status,
            "in_flight": self.in_flight,
            "dry_run": self.dry_run,
            "trigger": self.trigger,
            "requests": self.requests,
            "error": self.error,
            "unrepairable_entities": self.findings or [],
        }


class SyncLease(BaseModel):
    name = pw.CharField(max_length=32, primary_key=True)
    holder = pw.CharField(max_length=64, null=True)
    lease_until = UtcDateTimeField(null=True)
    next_due_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "sync_lease"
