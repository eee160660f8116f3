"""Exporting traces with OpenTelemetry when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

Only imported then (``core.cli.start_tracing``, ``core.app``): without the variable no
OpenTelemetry module is loaded and a request costs nothing more. ``start_tracing`` sets up, for
one process:

* a tracer provider exporting in batches over OTLP/HTTP (protobuf) to
  ``{OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces``, its spans named after the service
  (``service.name`` ``guestsync-pms``, ``guestsync-crm``, ``guestsync-pms-worker``);
* OpenTelemetry's Tornado instrumentation: a server span per request, continuing the incoming
  ``traceparent``; the base handler then takes the request's trace context from that span
  (``current_trace_context``), so what is logged and kept on the outbox is the exported trace;
* its DB-API instrumentation of ``sqlite3`` and ``pymysql``: a span per statement, a child of
  the request's span (the ``Store`` runs each unit of work in the request's context);
* ``ClientSpans`` for the delivery worker: a client span per webhook attempt, a child of the
  request that made the change, whose id is the ``traceparent`` the receiver gets.

Statements with no request or attempt around them (the worker's claims and heartbeats, every
fraction of a second) would each be a trace of their own; the sampler drops those, and keeps
every span whose parent is sampled. The SDK's own ``OTEL_*`` variables (headers, timeouts,
batch sizes) apply as usual.
"""

from __future__ import annotations

import sqlite3
import pymysql
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.dbapi import trace_integration, unwrap_connect
from opentelemetry.instrumentation.tornado import TornadoInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from .tracing import TraceContext

TRACES_PATH = "/v1/traces"


class _NoUntracedStatements(Sampler):
    """For spans without a parent: keep them, except a database client span."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes=None,
        links=None,
        trace_state=None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return "NoUntracedStatements"


class Tracing:
    """The process's OpenTelemetry set-up; ``stop()`` exports what is left and undoes it."""

    def __init__(self, provider: TracerProvider):
        self.provider = provider

    def stop(self) -> None:
        TornadoInstrumentor().uninstrument()
        # The instrumentation takes the driver module, though its annotation says a callable.
        unwrap_connect(sqlite3, "connect")  # type: ignore[arg-type]
        unwrap_connect(pymysql, "connect")  # type: ignore[arg-type]
        self.provider.shutdown()


def traces_url(endpoint: str) -> str:
    """``OTEL_EXPORTER_OTLP_ENDPOINT`` is the collector's base URL; traces go to its ``/v1/traces``."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def start_tracing(service: str, endpoint: str, exporter: SpanExporter | None = None) -> Tracing:
    """Instrument this process and export its spans to ``endpoint`` (or to ``exporter``)."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"guestsync-{service}"}),
        sampler=ParentBased(root=_NoUntracedStatements()),
    )
    provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter(endpoint=traces_url(endpoint))))
    # The global provider is what ``ClientSpans`` and the instrumentations find.
    trace.set_tracer_provider(provider)
    TornadoInstrumentor().instrument(tracer_provider=provider)
    # The instrumentation takes the driver module, though its annotation says a callable.
    trace_integration(sqlite3, "connect", "sqlite", tracer_provider=provider)  # type: ignore[arg-type]
    trace_integration(
        pymysql,  # type: ignore[arg-type]
        "connect",
        "mysql",
        tracer_provider=provider,
        connection_attributes={"database": "db", "port": "port", "host": "host", "user": "user"},
    )
    return Tracing(provider)


def current_trace_context() -> TraceContext | None:
    """The context of the span being served (the Tornado server span), if there is a valid one."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return TraceContext(f"{context.trace_id:032x}", f"{context.span_id:016x}", f"{int(context.trace_flags):02x}")


class ClientSpan:
    def __init__(self, span: trace.Span):
        self.span = span
        context = span.get_span_context()
        self.context = TraceContext(
            f"{context.trace_id:032x}", f"{context.span_id:016x}", f"{int(context.trace_flags):02x}"
        )

    def end(self, ok: bool, status_code: int | None, error: str | None) -> None:
        if status_code is not None:
            self.span.set_attribute("http.response.status_code", status_code)
        if not ok:
            self.span.set_status(Status(StatusCode.ERROR, error))
        self.span.end()


class ClientSpans:
    """Client spans of outgoing requests, each a child of a given ``traceparent``."""

    def __init__(self, name: str):
        self.tracer = trace.get_tracer(name)

    def start(self, name: str, parent: TraceContext, attributes: dict[str, str | int] | None = None) -> ClientSpan:
        remote = SpanContext(
            int(parent.trace_id, 16),
            int(parent.span_id, 16),
            is_remote=True,
            trace_flags=TraceFlags(int(parent.flags, 16)),
        )
        span = self.tracer.start_span(
            name,
            context=trace.set_span_in_context(NonRecordingSpan(remote)),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        return ClientSpan(span)
