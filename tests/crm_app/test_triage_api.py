"""What the dashboard's triage pages read from the CRM: rejections grouped by reason and address
over a recent window, and the audit-log event of one webhook id."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import utcnow
from crm_app.models import Rejection
from tests.support.http import call, json_of


async def get(http_client, base_url, path):
    return await call(http_client, base_url, "GET", "/api/v1" + path)


@pytest.mark.gen_test
async def test_rejections_grouped_by_reason_and_address_over_the_last_hour(http_client, base_url, crm_db):
    now = utcnow()

    def write():
        rows = (
            [("invalid_signature", "10.0.0.7", 1)] * 3
            + [("invalid_signature", "10.0.0.8", 2)]
            + [("timestamp_out_of_tolerance", "10.0.0.7", 5)]
            + [("invalid_signature", "10.0.0.7", 120)]
        )
        Rejection.insert_many(
            [
                {
                    "reason": reason,
                    "remote_ip": ip,
                    "webhook_id": None,
                    "received_at": now - dt.timedelta(minutes=minutes),
                }
                for reason, ip, minutes in rows
            ]
        ).execute()

    crm_db.store.call(write)

    response = await get(http_client, base_url, "/webhooks/rejections/summary")
    assert response.code == 200
    summary = json_of(response)["data"]
    assert summary["window_seconds"] == 3600 and summary["since"].endswith("Z")
    assert [(g["reason"], g["remote_ip"], g["count"]) for g in summary["groups"]] == [
        ("invalid_signature", "10.0.0.7", 3),
        ("invalid_signature", "10.0.0.8", 1),
        ("timestamp_out_of_tolerance", "10.0.0.7", 1),
    ]
    assert all(g["last_at"].endswith("Z") for g in summary["groups"])

    only = json_of(await get(http_client, base_url, "/webhooks/rejections/summary?reason=timestamp_out_of_tolerance"))
    assert [g["count"] for g in only["data"]["groups"]] == [1]
    longer = json_of(await get(http_client, base_url, "/webhooks/rejections/summary?window_seconds=10800"))
    assert longer["data"]["groups"][0]["count"] == 4
    for bad in ("window_seconds=0", "window_seconds=x", "window_seconds=999999999"):
        response = await get(http_client, base_url, f"/webhooks/rejections/summary?{bad}")
        assert response.code == 422 and json_of(response)["error"]["details"][0]["field"] == "window_seconds"


@pytest.mark.gen_test
async def test_events_filter_by_webhook_id(http_client, base_url, crm_db, sender):
    first = await sender.send("guest.created", {"id": 1, "email": "a@example.com", "name": "A", "version": 1})
    await sender.send("guest.created", {"id": 2, "email": "b@example.com", "name": "B", "version": 1})
    webhook_id = json_of(first)["data"]["id"]
    found = json_of(await get(http_client, base_url, f"/events?webhook_id={webhook_id}"))["data"]
    assert [e["webhook_id"] for e in found] == [webhook_id] and found[0]["entity_id"] == 1
    assert json_of(await get(http_client, base_url, "/events?webhook_id=nothing-like-it"))["data"] == []
