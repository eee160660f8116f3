"""The CRM's answers on the triage routes (rejections counted by reason and address, the event of
one webhook id) match the schemas its OpenAPI document gives for them."""

from __future__ import annotations

import pytest

from core.db import utcnow
from crm_app.models import Rejection
from tests.support.http import call, json_of
from tests.support.openapi import assert_conforms, schema_errors

API = "/api/v1"


@pytest.mark.gen_test
async def test_the_rejection_summary_and_event_lookup_match_the_document(http_client, base_url, crm_db, sender):
    now = utcnow()
    crm_db.store.call(
        lambda: Rejection.insert_many(
            [
                {"reason": "invalid_signature", "remote_ip": "10.0.0.7", "webhook_id": None, "received_at": now},
                {"reason": "invalid_signature", "remote_ip": "10.0.0.7", "webhook_id": "x", "received_at": now},
                {"reason": "missing_header", "remote_ip": None, "webhook_id": None, "received_at": now},
            ]
        ).execute()
    )
    webhook_id = json_of(
        await sender.send("guest.created", {"id": 1, "email": "a@example.com", "name": "A", "version": 1})
    )["data"]["id"]
    document = json_of(await call(http_client, base_url, "GET", f"{API}/openapi.json"))
    path = f"{API}/webhooks/rejections/summary"

    for query in ("", "?window_seconds=604800", "?reason=missing_header"):
        response = await call(http_client, base_url, "GET", path + query)
        assert response.code == 200, response.body
        assert_conforms(document, "GET", path, 200, json_of(response))
    summary = json_of(await call(http_client, base_url, "GET", path))["data"]
    assert [(g["reason"], g["remote_ip"], g["count"]) for g in summary["groups"]] == [
        ("invalid_signature", "10.0.0.7", 2),
        ("missing_header", None, 1),
    ]
    refused = await call(http_client, base_url, "GET", path + "?window_seconds=604801")
    assert refused.code == 422
    assert_conforms(document, "GET", path, 422, json_of(refused))
    assert schema_errors(document, "GET", path, 200, {"data": {**summary, "groups": [{"reason": "x"}]}})

    events = json_of(await call(http_client, base_url, "GET", f"{API}/events?webhook_id={webhook_id}"))
    assert [e["webhook_id"] for e in events["data"]] == [webhook_id]
    assert_conforms(document, "GET", f"{API}/events", 200, events)
