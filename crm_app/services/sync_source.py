"""The CRM's side of reconciliation: which guests and reservations it holds, at which version.

A guest is held once a guest event applied (``version`` set): a profile made only from
reservation events has no version and counts as not held. Tombstones are the same rows with
``deleted`` set. Both reads are forced through the covering indexes ``(id, version, deleted)``
(migrations 006 and 007), so they cost the rows in range, never the width of profile rows.
"""

from __future__ import annotations

import peewee as pw

from core.db import table_by_index
from core.sync import Entry

# kind -> (table, id column, index, what "held" means)
READS = {
    "guest": ("guest_profile", "guest_id", "guest_profile_guest_id_version_deleted", "version IS NOT NULL"),
    "reservation": (
        "reservation_mirror",
        "reservation_id",
        "reservation_mirror_reservation_id_version_deleted",
        "version > 0",
    ),
}


class CrmSyncSource:
    def __init__(self, database: pw.Database):
        self.database = database

    def statements(self, kind: str, from_id: int, to_id: int, limit: int | None = None) -> list[tuple[str, tuple]]:
        """The one read of ``entries`` as ``[(sql, params)]``."""
        db = getattr(self.database, "obj", self.database)
        table, key, index, held = READS[kind]
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        return [
            (
                f"SELECT {key}, version, deleted FROM {table_by_index(db, table, index)} "
                f"WHERE {key} BETWEEN {db.param} AND {db.param} AND {held} ORDER BY {key}{tail}",
                (from_id, to_id),
            )
        ]

    def entries(self, kind: str, from_id: int, to_id: int, limit: int | None = None) -> list[Entry]:
        db = getattr(self.database, "obj", self.database)
        ((sql, args),) = self.statements(kind, from_id, to_id, limit)
        return [(i, v, bool(d)) for i, v, d in db.execute_sql(sql, args).fetchall()]
