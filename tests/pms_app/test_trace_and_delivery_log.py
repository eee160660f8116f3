"""Following one webhook: the API request's trace context is kept on its outbox row and sent on
every attempt (a new span each), and every attempt is logged with the webhook, endpoint and
trace as fields. Every backend."""

from __future__ import annotations

import pytest

from core.tracing import new_trace, parse_traceparent, trace_var
from pms_app.models import DELIVERED, FAILED, OutboxEvent
from tests.pms_app.helpers import guest_body
from tests.support.delivery import add_event, delivery_settings, event, running_worker
from tests.support.http import call, json_of
from tests.support.logs import json_lines
from tests.support.receivers import Receiver, always, flapping, wait_until

API = "/api/v1"
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def stored_traceparent(store, entity_id: int) -> str | None:
    return store.call(lambda: OutboxEvent.get(OutboxEvent.entity_id == entity_id).traceparent)


@pytest.mark.gen_test
async def test_the_request_trace_is_kept_on_the_outbox_row(http_client, base_url, pms_db):
    response = await call(http_client, base_url, "POST", f"{API}/guests", guest_body(), headers={"traceparent": PARENT})
    assert response.code == 201
    stored = parse_traceparent(stored_traceparent(pms_db.store, json_of(response)["data"]["id"]))
    # The same trace, under the span of this request (a child of the caller's).
    assert stored.trace_id == TRACE_ID and stored.span_id != "00f067aa0ba902b7" and stored.flags == "01"


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "header", [None, "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01", PARENT.upper(), "ff" + PARENT[2:]]
)
async def test_without_a_valid_traceparent_a_new_trace_starts(http_client, base_url, pms_db, header):
    headers = {"traceparent": header} if header is not None else {}
    response = await call(http_client, base_url, "POST", f"{API}/guests", guest_body(), headers=headers)
    assert response.code == 201  # an invalid traceparent is ignored, never an error
    stored = parse_traceparent(stored_traceparent(pms_db.store, json_of(response)["data"]["id"]))
    assert stored is not None and stored.trace_id != TRACE_ID


def add_traced_event(store, entity_id: int = 1):
    trace = new_trace()
    token = trace_var.set(trace)
    try:
        return add_event(store, entity_id=entity_id), trace
    finally:
        trace_var.reset(token)


def test_every_attempt_continues_the_trace_under_its_own_span_and_is_logged(pms_db):
    store = pms_db.store
    with json_lines("guestsync.delivery") as log, Receiver(flapping("FS")) as receiver:
        event_id, trace = add_traced_event(store)
        with running_worker(delivery_settings(receiver.url), store):
            wait_until(lambda: event(store, event_id).status == DELIVERED, message="delivery")
        first, second = receiver.received
    sent = [parse_traceparent(req.headers["traceparent"]) for req in (first, second)]
    assert [s.trace_id for s in sent] == [trace.trace_id] * 2
    assert len({trace.span_id, sent[0].span_id, sent[1].span_id}) == 3
    lines = log.about(event_id)
    assert [(line["outcome"], line["level"]) for line in lines] == [("retry", "info"), ("delivered", "info")]
    for line in lines:
        assert line["endpoint"] == "crm" and line["endpoint_id"] == 1 and line["trace_id"] == trace.trace_id
    assert lines[0]["status_code"] == 500 and lines[0]["error"] == "HTTP 500" and lines[0]["next_attempt_at"]
    assert lines[1]["status_code"] == 202


def test_giving_up_is_a_warning(pms_db):
    store = pms_db.store
    with json_lines("guestsync.delivery") as log, Receiver(always(500)) as receiver:
        event_id, trace = add_traced_event(store)
        with running_worker(delivery_settings(receiver.url, retry_schedule=(0,)), store):
            wait_until(lambda: event(store, event_id).status == FAILED, message="given up")
    retry, gave_up = log.about(event_id)
    assert (retry["outcome"], retry["level"]) == ("retry", "info")
    assert (gave_up["outcome"], gave_up["level"]) == ("failed", "warning")
    assert gave_up["trace_id"] == trace.trace_id and gave_up["endpoint"] == "crm"
    assert "giving up" in gave_up["msg"]


def test_an_event_made_outside_a_request_is_traced_by_its_webhook_id(pms_db):
    store = pms_db.store
    with Receiver(always(202)) as receiver:
        event_id = add_event(store)
        with running_worker(delivery_settings(receiver.url), store):
            wait_until(lambda: event(store, event_id).status == DELIVERED, message="delivery")
        (req,) = receiver.received
    assert parse_traceparent(req.headers["traceparent"]).trace_id == event_id.replace("-", "")


def test_a_send_the_open_breaker_holds_back_is_logged(pms_db):
    store = pms_db.store
    settings = delivery_settings(
        "http://127.0.0.1:9/nowhere", breaker_failure_threshold=1, breaker_recovery_seconds=3600, delivery_concurrency=1
    )
    with json_lines("guestsync.delivery") as log:
        first = add_event(store, entity_id=1)
        second = add_event(store, entity_id=2)
        with running_worker(settings, store) as worker:
            wait_until(lambda: worker.breaker.state == "open", message="the breaker opens")
            wait_until(lambda: log.about(second) or event(store, second).attempt_count, message="second claimed")
    held = [line for line in log.about(second) if line["outcome"] == "held_back"]
    assert held, log.about(second)
    assert held[0]["endpoint"] == "crm" and "circuit breaker is open" in held[0]["msg"]
    assert held[0]["trace_id"] == second.replace("-", "")  # made outside a request: named by its id
    assert log.about(first)[0]["outcome"] == "retry"
