"""W3C trace context: the ``traceparent`` that follows a change from the API request that made
it, through the outbox, onto every webhook attempt, into the receiver's log.

A ``traceparent`` is ``00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>``. A request
that brings a valid one continues its trace; any other request (none, or a malformed one, which
is ignored, never an error) starts a new trace. ``trace_var`` holds the current context for the
duration of a request; executor threads inherit it because ``Store.run`` copies the context, so
the outbox row written by the request's transaction picks it up without being handed it, and
every log line carries its ``trace_id``.

Ids come from ``random.getrandbits``: unique enough to tell traces apart, cheap enough for every
request. They are not secrets.
"""

from __future__ import annotations

import contextvars
import random
import re
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_INVALID_TRACE_ID = "0" * 32
_INVALID_SPAN_ID = "0" * 16
SAMPLED = "01"


@dataclass(frozen=True)
class TraceContext:
    trace_id: str  # 32 lowercase hex digits, never all zeros
    span_id: str  # 16 lowercase hex digits: the span this context belongs to
    flags: str = SAMPLED

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> TraceContext:
        """The same trace under a new span (one per webhook attempt)."""
        return TraceContext(self.trace_id, new_span_id(), self.flags)


def new_trace_id() -> str:
    return f"{random.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{random.getrandbits(64) or 1:016x}"


def new_trace() -> TraceContext:
    return TraceContext(new_trace_id(), new_span_id())


def parse_traceparent(value: str | None) -> TraceContext | None:
    """The context a ``traceparent`` header carries, or ``None`` when it is absent or invalid.

    Version ``ff`` is forbidden; a higher version than ``00`` is read as far as the fields of
    version ``00`` go (and may carry more after them), as the recommendation requires.
    """
    if not value or len(value) > 512:
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == _INVALID_TRACE_ID or span_id == _INVALID_SPAN_ID:
        return None
    return TraceContext(trace_id, span_id, flags)


def continue_or_start(header: str | None) -> TraceContext:
    """A new span of the incoming trace, or a new trace when the header is missing or invalid."""
    parent = parse_traceparent(header)
    return parent.child() if parent is not None else new_trace()


trace_var: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar("trace", default=None)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the request being served (``None`` outside a request)."""
    context = trace_var.get()
    return context.traceparent if context is not None else None
