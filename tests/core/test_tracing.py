"""W3C ``traceparent``: what is accepted, what is ignored, and what a child keeps."""

import json
import logging

import pytest

from core.logging import JSONFormatter
from core.tracing import TraceContext, continue_or_start, current_traceparent, new_trace, parse_traceparent, trace_var

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_read():
    context = parse_traceparent(VALID)
    assert context == TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01")
    assert context.traceparent == VALID


def test_a_later_version_is_read_as_far_as_version_00_goes():
    context = parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-comes-later")
    assert (context.trace_id, context.span_id, context.flags) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        "00",
    )


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        VALID.upper(),
        VALID + "-extra",
        VALID[:-1],
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero span id
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" + "x" * 600,
    ],
)
def test_anything_else_is_ignored(value):
    assert parse_traceparent(value) is None


def test_continuing_keeps_the_trace_and_flags_under_a_new_span():
    child = continue_or_start(VALID)
    assert child.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and child.flags == "01"
    assert child.span_id != "00f067aa0ba902b7" and len(child.span_id) == 16


def test_an_invalid_header_starts_a_new_trace():
    first, second = continue_or_start("00-nope"), continue_or_start(None)
    assert first.trace_id != second.trace_id
    for context in (first, second):
        assert parse_traceparent(context.traceparent) == context


def test_log_lines_carry_the_current_trace_id():
    record = logging.makeLogRecord({"name": "t", "levelname": "INFO", "msg": "hello"})
    assert "trace_id" not in json.loads(JSONFormatter("pms").format(record))
    assert current_traceparent() is None
    context = new_trace()
    token = trace_var.set(context)
    try:
        line = json.loads(JSONFormatter("pms").format(record))
        assert current_traceparent() == context.traceparent
    finally:
        trace_var.reset(token)
    assert line["trace_id"] == context.trace_id
