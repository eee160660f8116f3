"""The record of rejected webhook requests: batched inserts, ``GET /webhooks/rejections`` and
``GET /webhooks/rejections/summary`` (counts by reason and remote address over a recent window,
read through the ``received_at`` index so only that window's rows are touched)."""

from __future__ import annotations

import datetime as dt

import peewee as pw

from core.db import iso, utcnow
from core.pagination import PageRequest, paginate

from ..models import WEBHOOK_ID_MAX, Rejection


def rejection_row(reason: str, remote_ip: str | None, webhook_id: str | None, received_at) -> dict:
    return {
        "reason": reason[:32],
        "remote_ip": (remote_ip or None) and remote_ip[:64],
        "webhook_id": (webhook_id or None) and webhook_id[:WEBHOOK_ID_MAX],
        "received_at": received_at,
    }


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


SUMMARY_WINDOW_SECONDS = 3600
SUMMARY_MAX_WINDOW_SECONDS = 7 * 86400  # a week
SUMMARY_MAX_GROUPS = 100


def summarise_rejections(
    window_seconds: int = SUMMARY_WINDOW_SECONDS, reason: str | None = None, now: dt.datetime | None = None
) -> dict:
    """Rejections of the last ``window_seconds`` grouped by reason and remote address, the
    largest groups first (at most ``SUMMARY_MAX_GROUPS``), with each group's latest time."""
    since = (now or utcnow()) - dt.timedelta(seconds=window_seconds)
    count = pw.fn.COUNT(Rejection.id)
    query = Rejection.select(
        Rejection.reason, Rejection.remote_ip, count.alias("count"), pw.fn.MAX(Rejection.received_at).alias("last_at")
    ).where(Rejection.received_at >= since)
    if reason:
        query = query.where(Rejection.reason == reason)
    rows = (
        query.group_by(Rejection.reason, Rejection.remote_ip)
        .order_by(count.desc(), Rejection.reason, Rejection.remote_ip)
        .limit(SUMMARY_MAX_GROUPS)
        .dicts()
    )
    groups = [
        {
            "reason": r["reason"],
            "remote_ip": r["remote_ip"],
            "count": int(r["count"]),
            "last_at": iso(Rejection.received_at.python_value(r["last_at"])),
        }
        for r in rows
    ]
    return {"since": iso(since), "window_seconds": window_seconds, "groups": groups}
