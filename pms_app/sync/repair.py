"""Judging each difference and repairing what the CRM can be brought up to.

The CRM applies an event when its ``(deleted, version)`` is greater than what it holds (a
tombstone beats a live copy). So the PMS can repair an entity the CRM is missing or holds at
an older state by sending its current state again: a live entity as ``<kind>.updated`` with the
full entity (the CRM applies ``created`` and ``updated`` alike; ``updated`` says "this is the
state now"), a deleted one as ``<kind>.deleted`` from its tombstone. The event goes through
the ordinary outbox, with the entity's current version and the time of its last change.

What it cannot repair, it reports and leaves alone: the CRM holding a version the PMS never
reached (``newer_in_crm``), a tombstone for an entity the PMS has live (``deleted_in_crm``), or
an entity the PMS never had (``unknown_to_pms``). Sending anything there would either be
ignored as stale or overwrite the CRM with older data.

Each batch re-reads the PMS's current state in its own transaction, after every CRM read of the
comparison, so an entity that changed meanwhile is judged on its newest state. An entity whose
newest event is still on its way (pending or being delivered) is left to that event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import peewee as pw

from ..models import CRM_ENDPOINT_ID, DELIVERING, HELD, PENDING, Delivery, Guest, Reservation
from ..outbox import NewEvent, deleted_payload, record_events
from .compare import Difference, State
from .models import Tombstone

MISSING_IN_CRM, OLDER_IN_CRM = "missing_in_crm", "older_in_crm"
NEWER_IN_CRM, DELETED_IN_CRM, UNKNOWN_TO_PMS = "newer_in_crm", "deleted_in_crm", "unknown_to_pms"
REPAIRABLE = (MISSING_IN_CRM, OLDER_IN_CRM)
BATCH_SIZE = 500
MAX_FINDINGS = 100
MODELS = {"guest": Guest, "reservation": Reservation}


def judge(pms: State | None, crm: State | None) -> str | None:
    """Why the two sides differ (``None`` if they do not)."""
    if pms == crm:
        return None
    if pms is None:
        return UNKNOWN_TO_PMS
    if crm is None:
        return MISSING_IN_CRM
    (pms_version, pms_deleted), (crm_version, crm_deleted) = pms, crm
    if crm_version > pms_version:
        return NEWER_IN_CRM
    if (pms_deleted, pms_version) > (crm_deleted, crm_version):
        return OLDER_IN_CRM
    return DELETED_IN_CRM


@dataclass
class RepairReport:
    repairable: int = 0  # queued (or, in a dry run, that would have been)
    in_flight: int = 0
    unrepairable: int = 0
    findings: list[dict] = field(default_factory=list)  # the first MAX_FINDINGS unrepairable

    @property
    def drifted(self) -> int:
        """Entities out of step that no event on its way explains."""
        return self.repairable + self.unrepairable

    def add(self, other: RepairReport) -> None:
        self.repairable += other.repairable
        self.in_flight += other.in_flight
        self.unrepairable += other.unrepairable
        self.findings += other.findings[: MAX_FINDINGS - len(self.findings)]


def _state(entity_id: int, live: dict, dead: dict) -> State | None:
    if entity_id in live:
        return live[entity_id].version, False
    if entity_id in dead:
        return dead[entity_id].version, True
    return None


def _in_flight_versions(kind: str, ids: list[int]) -> dict[int, int]:
    """The highest version of each entity with an event on its way to the CRM (endpoint 1):
    pending, being delivered, or held while the endpoint is disabled (sent when it is enabled)."""
    rows = (
        Delivery.select(Delivery.entity_id, pw.fn.MAX(Delivery.entity_version))
        .where(
            (Delivery.endpoint_id == CRM_ENDPOINT_ID)
            & Delivery.entity_id.in_(ids)
            & Delivery.status.in_((PENDING, DELIVERING, HELD))
            & Delivery.type.startswith(kind + ".")
        )
        .group_by(Delivery.entity_id)
        .tuples()
    )
    return dict(rows)


def _repair_event(kind: str, entity_id: int, live: dict, dead: dict) -> NewEvent:
    """The event that brings the CRM to the PMS's current state of one entity."""
    if entity_id in live:
        row = live[entity_id]
        return f"{kind}.updated", entity_id, row.version, row.to_api(), row.updated_at
    tomb = dead[entity_id]
    extra = {"guest_id": tomb.guest_id} if kind == "reservation" else {}
    return (
        f"{kind}.deleted",
        entity_id,
        tomb.version,
        deleted_payload(entity_id, tomb.version, tomb.deleted_at, **extra),
        tomb.deleted_at,
    )


def _finding(entity_id: int, reason: str, pms: State | None, crm: State | None) -> dict:
    def side(state: State | None) -> dict | None:
        return None if state is None else {"version": state[0], "deleted": state[1]}

    return {"id": entity_id, "reason": reason, "pms": side(pms), "crm": side(crm)}


def repair_batch(kind: str, differences: list[Difference], dry_run: bool = False) -> RepairReport:
    """Judge up to ``BATCH_SIZE`` differences on the PMS's current state and, unless
    ``dry_run``, queue one event per repairable entity; one transaction (the caller's)."""
    model = MODELS[kind]
    ids = [d.id for d in differences]
    live = {row.id: row for row in model.select().where(model.id.in_(ids))}
    dead = {t.entity_id: t for t in Tombstone.select().where((Tombstone.kind == kind) & Tombstone.entity_id.in_(ids))}
    in_flight = _in_flight_versions(kind, ids)
    report = RepairReport()
    repairs: list[NewEvent] = []
    for difference in differences:
        current = _state(difference.id, live, dead)
        reason = judge(current, difference.crm)
        if reason is None:
            continue  # caught up since the comparison
        if reason not in REPAIRABLE:
            report.unrepairable += 1
            if len(report.findings) < MAX_FINDINGS:
                report.findings.append(_finding(difference.id, reason, current, difference.crm))
        elif in_flight.get(difference.id, 0) >= current[0]:
            report.in_flight += 1
        else:
            report.repairable += 1
            repairs.append(_repair_event(kind, difference.id, live, dead))
    if not dry_run:
        record_events(repairs)
    return report
