"""Notifications as the API lists them: newest first, or ascending after ``?since_id=``."""

from __future__ import annotations

from core.pagination import PageRequest, paginate

from ..notifications.models import Notification


def list_notifications(page: PageRequest, kind: str | None = None) -> tuple[list[dict], str | None]:
    query = Notification.select()
    if kind is not None:
        query = query.where(Notification.type == kind)
    rows, cursor = paginate(query, Notification.id, page)
    return [row.to_api() for row in rows], cursor
