"""Traces exported with OpenTelemetry: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, the PMS API
request, its statements, each delivery attempt and the CRM's handling of the webhook are spans
of one trace, sent over OTLP/HTTP (received here by a small collector); without it, no
OpenTelemetry module is ever imported. Real processes, every backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request

import tornado.web

from core.config import REPO_ROOT
from tests.support.processes import free_port, start_module, wait_until_answers
from tests.support.receivers import ServedApp, wait_until

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
SECRET = "otel-test-secret"


class Collector:
    """The OTLP/HTTP trace receiver: decodes each protobuf export into plain span dicts."""

    def __init__(self):
        self.spans: list[dict] = []
        self.lock = threading.Lock()
        collector = self

        class Traces(tornado.web.RequestHandler):
            def post(self):
                from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

                request = ExportTraceServiceRequest.FromString(self.request.body)
                found = []
                for resource in request.resource_spans:
                    service = next(
                        a.value.string_value for a in resource.resource.attributes if a.key == "service.name"
                    )
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            found.append(
                                {
                                    "service": service,
                                    "name": span.name,
                                    "kind": span.kind,
                                    "trace_id": span.trace_id.hex(),
                                    "span_id": span.span_id.hex(),
                                    "parent": span.parent_span_id.hex(),
                                    "attributes": {a.key: a.value for a in span.attributes},
                                }
                            )
                with collector.lock:
                    collector.spans += found
                self.set_header("Content-Type", "application/x-protobuf")
                self.write(b"")

        self.served = ServedApp(lambda: tornado.web.Application([(r"/v1/traces", Traces)]), path="")

    def of(self, trace_id: str) -> list[dict]:
        with self.lock:
            return [span for span in self.spans if span["trace_id"] == trace_id]


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


SERVER, CLIENT = 2, 3  # the protobuf's SpanKind values


def test_one_trace_from_the_pms_request_to_the_crm(pms_db, crm_db, tmp_path):
    collector = Collector()
    collector.served.start()
    crm_port, pms_port = free_port(), free_port()
    common = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.served.origin, "OTEL_BSP_SCHEDULE_DELAY": "50"}
    crm = start_module(
        ["crm_app"],
        {**common, "DATABASE_URL": crm_db.url, "APP_PORT": str(crm_port), "WEBHOOK_SHARED_SECRET": SECRET},
        str(tmp_path / "crm.log"),
    )
    pms = None
    try:
        pms = start_module(
            ["pms_app"],
            {
                **common,
                "DATABASE_URL": pms_db.url,
                "APP_PORT": str(pms_port),
                "CRM_WEBHOOK_SECRET": SECRET,
                "CRM_WEBHOOK_URL": f"http://127.0.0.1:{crm_port}/api/v1/webhooks/pms",
            },
            str(tmp_path / "pms.log"),
        )
        wait_until_answers(f"http://127.0.0.1:{crm_port}/api/v1/health", crm)
        wait_until_answers(f"http://127.0.0.1:{pms_port}/api/v1/health", pms)
        request = urllib.request.Request(
            f"http://127.0.0.1:{pms_port}/api/v1/guests",
            method="POST",
            data=json.dumps({"email": "ann@example.com", "name": "Ann"}).encode(),
            headers={"Content-Type": "application/json", "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201

        def crm_span():
            return [s for s in collector.of(TRACE_ID) if s["service"] == "guestsync-crm" and s["kind"] == SERVER]

        wait_until(crm_span, timeout=20, message="the CRM's span of the webhook")
        wait_until(
            lambda: [
                s
                for s in collector.of(TRACE_ID)
                if s["kind"] == CLIENT and s["service"] == "guestsync-pms" and s["name"] == "POST crm"
            ],
            message="the delivery attempt's span",
        )
    finally:
        if pms is not None:
            stop(pms)
        stop(crm)
        collector.served.stop()
    spans = collector.of(TRACE_ID)
    (api,) = [s for s in spans if s["service"] == "guestsync-pms" and s["kind"] == SERVER]
    (attempt,) = [s for s in spans if s["name"] == "POST crm"]
    (received,) = crm_span()
    statements = [s for s in spans if s["service"] == "guestsync-pms" and s["kind"] == CLIENT and s is not attempt]
    assert api["parent"] == CALLER_SPAN  # the caller's trace continues
    assert statements and all(s["parent"] == api["span_id"] for s in statements)  # DB-API spans
    assert attempt["parent"] == api["span_id"]  # the attempt, from the outbox row's context
    assert received["parent"] == attempt["span_id"]  # the CRM continues the attempt's span
    assert any(s["service"] == "guestsync-crm" and s["kind"] == CLIENT for s in spans)  # its statements
    # The CRM's log names the webhook in the same trace.
    lines = [json.loads(line) for line in (tmp_path / "crm.log").read_text().splitlines() if line.startswith("{")]
    accepted = [line for line in lines if line.get("outcome") == "accepted"]
    assert accepted and accepted[0]["trace_id"] == TRACE_ID and accepted[0]["webhook_id"]


NOT_LOADED = r"""
import json, os, sys, threading, urllib.request
from pms_app.__main__ import main

def probe():
    base = "http://127.0.0.1:" + os.environ["APP_PORT"]
    for _ in range(400):
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=1)
            break
        except Exception:
            threading.Event().wait(0.05)
    request = urllib.request.Request(base + "/api/v1/guests", method="POST",
        data=b'{"email": "bo@example.com", "name": "Bo"}',
        headers={"Content-Type": "application/json",
                 "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    status = urllib.request.urlopen(request, timeout=10).status
    loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
    print(json.dumps({"status": status, "loaded": loaded}), flush=True)
    os._exit(0)

threading.Thread(target=probe, daemon=True).start()
main(["--migrate"])
"""


def test_without_an_endpoint_nothing_of_opentelemetry_is_imported(tmp_path):
    env = {
        **os.environ,
        "ENV_FILE": os.devnull,
        "APP_PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path}/pms.db",
        "CRM_WEBHOOK_URL": "http://127.0.0.1:9/nowhere",
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    done = subprocess.run(
        [sys.executable, "-c", NOT_LOADED], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"status": 201, "loaded": []}, done.stderr
