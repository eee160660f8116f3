"""The record of rejected webhook requests: batched inserts and ``GET /webhooks/rejections``."""

from __future__ import annotations

from core.db import iso
from core.pagination import PageRequest, paginate

from ..models import WEBHOOK_ID_MAX, Rejection


def rejection_row(reason: str, remote_ip: str | None, webhook_id: str | None, received_at) -> dict:
    return {"reason": reason[:32], "remote_ip": (remote_ip or None) and remote_ip[:64],
            "webhook_id": (webhook_id or None) and webhook_id[:WEBHOOK_ID_MAX],
            "received_at": received_at}


def insert_rejections(rows: list[dict]) -> None:
    """Many rejections in one statement."""
    if rows:
        Rejection.insert_many(rows).execute()


def rejection_to_api(rejection: Rejection) -> dict:
    return {
        "id": rejection.id,
        "reason": rejection.reason,
        "remote_ip": rejection.remote_ip,
        "received_at": iso(rejection.received_at),
        "webhook_id": rejection.webhook_id,
    }


def list_rejections(page: PageRequest, reason: str | None = None) -> tuple[list[dict], str | None]:
    query = Rejection.select()
    if reason:
        query = query.where(Rejection.reason == reason)
    rows, cursor = paginate(query, Rejection.id, page)
    return [rejection_to_api(r) for r in rows], cursor
