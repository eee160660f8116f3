"""Schemathesis against both services running as real processes, from their own OpenAPI documents.

PMS (with its delivery worker) and CRM start on fresh SQLite databases with an API token, and
schemathesis tests every operation of each: generated valid and invalid requests (examples,
boundary coverage, random fuzzing, then stateful sequences that follow the document's links,
e.g. a created guest read, updated and deleted). It checks that no answer is a 5xx and that every
answer's status, content type and body are the ones the document gives for that operation.
Runs are seeded and deterministic (the same requests every run) and bounded, so the whole fuzz
takes well under a minute here. The receiver's valid cases are signed with the CRM's secret
(``tests.support.schemathesis_hooks``), so more than its signature check is fuzzed.

Endpoint URLs outside 127.0.0.0/8 are refused by configuration (``ENDPOINT_DENIED_NETWORKS``):
the fuzzer creates endpoints and sends test pings, and none of them may leave the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import REPO_ROOT
from tests.support.processes import free_port, start_module, wait_until_answers

API = "/api/v1"
TOKEN = "fuzz-token"
SECRET = "fuzz-shared-secret"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Examples per operation: enough to reach past the validation of every field, small enough for
# a 2-core CI machine (the PMS has about forty operations, the CRM sixteen).
MAX_EXAMPLES = {"pms": 40, "crm": 80}
SEED = 20261201
# Every IPv4 network but loopback (127.0.0.0/8), and every IPv6 address.
OUTSIDE_LOOPBACK = "0.0.0.0/2,64.0.0.0/3,96.0.0.0/4,112.0.0.0/5,120.0.0.0/6,124.0.0.0/7,126.0.0.0/8,128.0.0.0/1,::/0"


def schemathesis_command() -> list[str]:
    script = Path(sys.executable).with_name("schemathesis")
    if script.exists():
        return [str(script)]
    found = shutil.which("schemathesis")
    if found is None:
        pytest.fail("schemathesis is not installed (requirements-dev.txt)")
    return [found]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """Both services on their own ports and SQLite files: name -> origin."""
    folder = tmp_path_factory.mktemp("fuzz")
    ports = {"pms": free_port(), "crm": free_port()}
    origins = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    common = {"API_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"}
    crm = start_module(
        ["crm_app", "--migrate"],
        {
            **common,
            "APP_PORT": str(ports["crm"]),
            "DATABASE_URL": f"sqlite:///{folder}/crm.db",
            "WEBHOOK_SHARED_SECRET": SECRET,
        },
        str(folder / "crm.log"),
    )
    pms = start_module(
        ["pms_app", "--migrate"],
        {
            **common,
            "APP_PORT": str(ports["pms"]),
            "DATABASE_URL": f"sqlite:///{folder}/pms.db",
            "CRM_WEBHOOK_URL": origins["crm"] + API + "/webhooks/pms",
            "CRM_WEBHOOK_SECRET": SECRET,
            "ENDPOINT_DENIED_NETWORKS": OUTSIDE_LOOPBACK,
        },
        str(folder / "pms.log"),
    )
    processes = {"pms": pms, "crm": crm}
    try:
        for name, process in processes.items():
            wait_until_answers(origins[name] + API + "/ready", process, timeout=60)
        yield origins
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", ["pms", "crm"])
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(services, service, tmp_path):
    origin = services[service]
    command = [
        *schemathesis_command(),
        "run",
        f"{origin}{API}/openapi.json",
        "--url",
        origin,
        "--header",
        f"Authorization: Bearer {TOKEN}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES[service]),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(tmp_path / f"schemathesis-{service}.xml"),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",
        "FUZZ_WEBHOOK_SECRET": SECRET,
        "PYTHONPATH": str(REPO_ROOT),
        "NO_COLOR": "1",
    }
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=580)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-12000:]
    generated = re.search(r"(\d+) generated", output)
    assert generated and int(generated.group(1)) >= 1000, output[-3000:]  # it did test, and a lot
