"""The trace context of each delivery attempt, and its span when traces are exported.

An attempt is a new span of the trace of the request that made the change (``attempt_trace``).
With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, that span is a real OpenTelemetry client span
(``POST <endpoint>``, ended with the attempt's status), so the exported trace runs from the API
request through each attempt into the receiver; without it, the span exists only as the id in
the ``traceparent`` header and nothing of OpenTelemetry is loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from core.tracing import TraceContext, parse_traceparent

from ..config import PmsSettings
from .claims import AttemptRecord, Claim
from .sender import attempt_trace

Finish = Callable[[AttemptRecord], None]


def _nothing(record: AttemptRecord) -> None:
    return None


class AttemptSpans:
    def __init__(self, settings: PmsSettings):
        self._spans = None
        if settings.otel_exporter_otlp_endpoint:
            from core.otel import ClientSpans

            self._spans = ClientSpans("guestsync.delivery")

    def start(self, claim: Claim, endpoint: str) -> tuple[TraceContext, Finish]:
        """The attempt's context, and what to call with its record once it is made."""
        trace = attempt_trace(claim)
        if self._spans is None:
            return trace, _nothing
        parent = parse_traceparent(claim.traceparent) or trace
        span = self._spans.start(
            f"POST {endpoint}",
            parent,
            {
                "webhook.id": claim.id,
                "webhook.type": claim.type,
                "endpoint.name": endpoint,
                "endpoint.id": claim.endpoint_id,
            },
        )

        def finish(record: AttemptRecord) -> None:
            span.end(record.ok, record.status_code, record.error)

        return span.context, finish
