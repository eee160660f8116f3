"""The receiver names every webhook in its log (accepted, duplicate, rejected) with the trace id
the sender's ``traceparent`` carried, and keeps that trace id on the audit entry. Every backend."""

from __future__ import annotations

import json

import pytest

from crm_app.models import Event
from tests.crm_app.webhook_factory import envelope, guest, signed_request
from tests.support.logs import json_lines

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
LOGGERS = ("guestsync.crm.webhooks",)


async def post(sender, webhook_id=None, traceparent=PARENT, **header_changes):
    webhook_id, body = envelope("guest.updated", guest(7), webhook_id)
    raw = json.dumps(body).encode()
    headers = signed_request(raw, webhook_id)
    if traceparent is not None:
        headers["traceparent"] = traceparent
    headers.update(header_changes)
    return webhook_id, await sender.post_raw(raw, headers)


@pytest.mark.gen_test
async def test_accepted_and_duplicate_are_logged_in_the_senders_trace(sender, crm_db):
    with json_lines(*LOGGERS) as log:
        webhook_id, first = await post(sender)
        _, again = await post(sender, webhook_id)
    assert (first.code, again.code) == (202, 200)
    accepted, duplicate = log.about(webhook_id)
    assert (accepted["outcome"], accepted["level"]) == ("accepted", "info")
    assert (duplicate["outcome"], duplicate["level"]) == ("duplicate", "info")
    assert accepted["trace_id"] == duplicate["trace_id"] == TRACE_ID
    assert accepted["event_type"] == "guest.updated" and accepted["request_id"]
    stored = await crm_db.store.run(lambda: Event.get(Event.webhook_id == webhook_id).trace_id)
    assert stored == TRACE_ID


@pytest.mark.gen_test
async def test_a_rejection_is_a_warning_naming_the_webhook(sender, crm_db):
    with json_lines(*LOGGERS) as log:
        webhook_id, response = await post(sender, **{"webhook-signature": "v1,AAAA"})
    assert response.code == 401
    (line,) = log.about(webhook_id)
    assert (line["outcome"], line["reason"], line["level"]) == ("rejected", "invalid_signature", "warning")
    assert line["trace_id"] == TRACE_ID


@pytest.mark.gen_test
@pytest.mark.parametrize("traceparent", [None, "nonsense", "00-" + "0" * 32 + "-00f067aa0ba902b7-01"])
async def test_without_a_valid_traceparent_the_webhook_gets_a_trace_of_its_own(sender, crm_db, traceparent):
    with json_lines(*LOGGERS) as log:
        webhook_id, response = await post(sender, traceparent=traceparent)
    assert response.code == 202  # an invalid traceparent is ignored, never an error
    (line,) = log.about(webhook_id)
    stored = await crm_db.store.run(lambda: Event.get(Event.webhook_id == webhook_id).trace_id)
    assert stored == line["trace_id"] and len(stored) == 32 and stored != TRACE_ID
