"""Fetching rows by id for read or for read-modify-write, the same way for every entity."""

from __future__ import annotations

from typing import TypeVar

import peewee as pw

from core.contract import MAX_ID
from core.db import is_mysql
from core.errors import NotFoundError

M = TypeVar("M", bound=pw.Model)


def for_update(query: pw.ModelSelect) -> pw.ModelSelect:
    """Lock the selected rows until commit on MySQL; SQLite's IMMEDIATE transactions already serialise writers."""
    return query.for_update() if is_mysql(query.model._meta.database) else query


def get_or_404(model: type[M], row_id: int, lock: bool = False) -> M:
    label = model.__name__.lower()
    if row_id > MAX_ID:
        raise NotFoundError(f"{label} {row_id} not found")
    query = model.select().where(model._meta.primary_key == row_id)
    row = (for_update(query) if lock else query).first()
    if row is None:
        raise NotFoundError(f"{label} {row_id} not found")
    return row
