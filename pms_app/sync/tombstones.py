"""Writing tombstones: called inside the transaction of the delete they record."""

from __future__ import annotations

import datetime as dt

from .models import Tombstone


def write_tombstone(
    kind: str, entity_id: int, version: int, deleted_at: dt.datetime, guest_id: int | None = None
) -> None:
    """Record that ``kind`` ``entity_id`` was deleted at ``version``; commits or rolls back with
    the caller's delete. Ids are never reused, so an entity is deleted at most once."""
    Tombstone.insert(
        kind=kind, entity_id=entity_id, version=version, deleted_at=deleted_at, guest_id=guest_id
    ).execute()
