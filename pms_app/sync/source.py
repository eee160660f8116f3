"""The PMS's side of reconciliation: its live guests and reservations plus their tombstones.

Live rows are read from the ``(id, version)`` indexes (migrations 011, 012), tombstones from
their covering ``(kind, entity_id, version)`` index, each forced so the database never reads
the wide rows instead; the two ascending streams are merged by id (an id is either live or a
tombstone, never both, because ids are never reused).
"""

from __future__ import annotations

import heapq
import itertools

import peewee as pw

from core.db import table_by_index
from core.sync import Entry

from ..models import Guest, Reservation
from .models import Tombstone

MODELS = {"guest": Guest, "reservation": Reservation}
LIVE_INDEXES = {"guest": "guest_id_version", "reservation": "reservation_id_version"}
TOMBSTONE_INDEX = "tombstone_kind_entity_id_version"


class PmsSyncSource:
    def __init__(self, database: pw.Database):
        self.database = database

    def statements(self, kind: str, from_id: int, to_id: int, limit: int | None = None) -> list[tuple[str, tuple]]:
        """The two reads of ``entries``: live rows, then tombstones (each ``(sql, params)``)."""
        db = getattr(self.database, "obj", self.database)
        p = db.param
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        live_table = table_by_index(db, MODELS[kind]._meta.table_name, LIVE_INDEXES[kind])
        dead_table = table_by_index(db, Tombstone._meta.table_name, TOMBSTONE_INDEX)
        return [
            (f"SELECT id, version FROM {live_table} WHERE id BETWEEN {p} AND {p} ORDER BY id{tail}", (from_id, to_id)),
            (
                f"SELECT entity_id, version FROM {dead_table} WHERE kind = {p} "
                f"AND entity_id BETWEEN {p} AND {p} ORDER BY entity_id{tail}",
                (kind, from_id, to_id),
            ),
        ]

    def entries(self, kind: str, from_id: int, to_id: int, limit: int | None = None) -> list[Entry]:
        db = getattr(self.database, "obj", self.database)
        (live_sql, live_args), (dead_sql, dead_args) = self.statements(kind, from_id, to_id, limit)
        live = db.execute_sql(live_sql, live_args).fetchall()
        dead = db.execute_sql(dead_sql, dead_args).fetchall()
        merged = heapq.merge([(i, v, False) for i, v in live], [(i, v, True) for i, v in dead])
        return list(itertools.islice(merged, limit))

    def max_id(self, kind: str) -> int:
        """The highest id the PMS ever gave an entity of ``kind`` that still has a trace."""
        model = MODELS[kind]
        live = model.select(pw.fn.MAX(model.id)).scalar() or 0
        dead = (Tombstone.select(pw.fn.MAX(Tombstone.entity_id)).where(Tombstone.kind == kind).scalar()) or 0
        return max(live, dead)
