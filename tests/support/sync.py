"""Reconciliation tests: the PMS's outbox delivered to the CRM in-process, and both manifests.

``deliver`` takes outbox events, builds the exact body the delivery worker sends
(``envelope_body``), validates it like the CRM's receiver and applies it through the CRM's own
unit of work, then marks the event delivered; ``lose`` marks events as given up or delivered
without the CRM ever seeing them. ``CrmSide`` is the CRM's digests and manifests read from its
database through the same core functions its HTTP routes call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from core.db import Store, utcnow
from core.sync import KINDS
from crm_app.services.receiver import receive_one
from crm_app.services.sync_source import CrmSyncSource
from crm_app.validation import parse_webhook
from pms_app.delivery.claims import Claim
from pms_app.delivery.sender import envelope_body
from pms_app.models import CRM_ENDPOINT_ID, DELIVERED, FAILED, PENDING, Delivery, OutboxEvent
from pms_app.sync.compare import StoreSide
from pms_app.sync.source import PmsSyncSource


def pending_events(pms_store: Store) -> list[OutboxEvent]:
    """The events whose delivery to the CRM (endpoint 1) is pending, oldest first."""
    return pms_store.call(
        lambda: list(
            OutboxEvent.select()
            .join(Delivery, on=(Delivery.event_seq == OutboxEvent.seq))
            .where((Delivery.endpoint_id == CRM_ENDPOINT_ID) & (Delivery.status == PENDING))
            .order_by(OutboxEvent.seq)
        )
    )


def _mark(pms_store: Store, seqs: list[int], status: str) -> None:
    pms_store.call(
        lambda: (
            Delivery.update(status=status, delivered_at=utcnow() if status == DELIVERED else None)
            .where((Delivery.endpoint_id == CRM_ENDPOINT_ID) & Delivery.event_seq.in_(seqs))
            .execute()
        )
    )


def deliver(pms_store: Store, crm_store: Store, events: Iterable[OutboxEvent]) -> list[str]:
    """Apply each event at the CRM, in the given order; returns the receiver's answers."""
    answers = []
    for event in events:
        claim = Claim(
            seq=event.seq,
            id=event.id,
            endpoint_id=1,
            type=event.type,
            payload=event.payload,
            occurred_at=event.occurred_at,
            worker_id="test",
            lease_until=utcnow(),
            attempts_since_replay=0,
            trigger="scheduled",
            replayed_by=None,
        )
        incoming = parse_webhook(json.loads(envelope_body(claim)), event.id)
        answers.append(crm_store.call(receive_one, incoming, transaction=False).status)
        _mark(pms_store, [event.seq], DELIVERED)
    return answers


def deliver_pending(pms_store: Store, crm_store: Store) -> list[str]:
    return deliver(pms_store, crm_store, pending_events(pms_store))


def lose(pms_store: Store, events: Iterable[OutboxEvent], as_status: str = FAILED) -> None:
    """The CRM never got these: they gave up (``failed``), or were acknowledged and then lost
    (``delivered``, as after restoring an old CRM backup)."""
    seqs = [e.seq for e in events]
    if seqs:
        _mark(pms_store, seqs, as_status)


def crm_side(crm_store: Store) -> StoreSide:
    return StoreSide(crm_store, CrmSyncSource(crm_store.database))


def pms_side(pms_store: Store) -> StoreSide:
    return StoreSide(pms_store, PmsSyncSource(pms_store.database))


def full_manifest(side: StoreSide, kind: str, limit: int = 7) -> list[dict]:
    """Every manifest row of ``kind``, walking the pages (small ones, to exercise paging)."""
    rows, after = [], 0
    while True:
        page, cursor = side.manifest(kind, after, limit)
        rows += page
        if cursor is None:
            return rows
        after = int(cursor)


def manifests(side: StoreSide) -> dict[str, list[dict]]:
    return {kind: full_manifest(side, kind) for kind in KINDS}
