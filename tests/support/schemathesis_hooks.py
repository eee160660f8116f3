"""Schemathesis hooks for the API fuzz (loaded through ``SCHEMATHESIS_HOOKS``).

The CRM receiver answers 401 to anything not signed with its secret, so a fuzzer that cannot
sign only ever tests the signature check. Here every positive test case of the receiver is
signed as the PMS would sign it (a fresh webhook id, the current time, the secret named by
``FUZZ_WEBHOOK_SECRET``), so its envelope and payload validation, recording and profile
updates are fuzzed too; negative cases go out as generated (missing or malformed headers).
"""

from __future__ import annotations

import json
import os
import uuid

import schemathesis
from schemathesis.generation import GenerationMode

from core.signing import keys_from_secrets, signed_headers

RECEIVER_SUFFIX = "/webhooks/pms"


@schemathesis.hook
def before_call(context, case, **kwargs) -> None:
    secret = os.environ.get("FUZZ_WEBHOOK_SECRET")
    if not secret or case.method.upper() != "POST" or not case.path.endswith(RECEIVER_SUFFIX):
        return
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE or not isinstance(case.body, dict):
        return
    # The signature covers the exact bytes sent: serialise the body here and send it as is.
    raw = json.dumps(case.body).encode()
    webhook_id = str(uuid.uuid4())
    if "idempotency_key" in case.body:
        case.body["idempotency_key"] = webhook_id
        raw = json.dumps(case.body).encode()
    case.body = raw
    case.headers = {**(case.headers or {}), **signed_headers(keys_from_secrets([secret]), webhook_id, raw)}
