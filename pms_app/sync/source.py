"""The PMS's side of reconciliation: its live guests and reservations plus their tombstones.

Live rows come from the ``(id, version)`` indexes (migrations 008, 009), tombstones from their
own covering index; the two streams are merged by id (an id is either live or a tombstone,
never both, because ids are never reused).
"""

from __future__ import annotations

import heapq
import itertools

import peewee as pw

from core.sync import Entry

from ..models import Guest, Reservation
from .models import Tombstone

MODELS = {"guest": Guest, "reservation": Reservation}


class PmsSyncSource:
    def __init__(self, database: pw.Database):
        self.database = database

    def entries(self, kind: str, from_id: int, to_id: int, limit: int | None = None) -> list[Entry]:
        model = MODELS[kind]
        live = (model.select(model.id, model.version)
                .where(model.id.between(from_id, to_id)).order_by(model.id))
        dead = (Tombstone.select(Tombstone.entity_id, Tombstone.version)
                .where((Tombstone.kind == kind) & Tombstone.entity_id.between(from_id, to_id))
                .order_by(Tombstone.entity_id))
        if limit is not None:
            live, dead = live.limit(limit), dead.limit(limit)
        merged = heapq.merge([(i, v, False) for i, v in live.tuples()],
                             [(i, v, True) for i, v in dead.tuples()])
        return list(itertools.islice(merged, limit))

    def max_id(self, kind: str) -> int:
        """The highest id the PMS ever gave an entity of ``kind`` that still has a trace."""
        model = MODELS[kind]
        live = model.select(pw.fn.MAX(model.id)).scalar() or 0
        dead = (Tombstone.select(pw.fn.MAX(Tombstone.entity_id))
                .where(Tombstone.kind == kind).scalar()) or 0
        return max(live, dead)
