"""The CRM's side of reconciliation: which guests and reservations it holds, at which version.

A guest is held once a guest event applied (``version`` set): a profile made only from
reservation events has no version and counts as not held. Tombstones are the same rows with
``deleted`` set. Both reads use the covering indexes ``(id, version, deleted)`` (migrations
006 and 007), so they cost the rows in range, not the width of the profile rows.
"""

from __future__ import annotations

import peewee as pw

from core.sync import Entry

from ..models import GuestProfile, ReservationMirror


class CrmSyncSource:
    def __init__(self, database: pw.Database):
        self.database = database

    def entries(self, kind: str, from_id: int, to_id: int, limit: int | None = None) -> list[Entry]:
        if kind == "guest":
            key, held = GuestProfile.guest_id, GuestProfile.version.is_null(False)
            model = GuestProfile
        else:
            key, held = ReservationMirror.reservation_id, ReservationMirror.version > 0
            model = ReservationMirror
        query = (model.select(key, model.version, model.deleted)
                 .where(key.between(from_id, to_id) & held)
                 .order_by(key))
        if limit is not None:
            query = query.limit(limit)
        return [(i, v, bool(d)) for i, v, d in query.tuples()]
