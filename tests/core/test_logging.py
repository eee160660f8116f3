"""JSON log lines carry the request id."""

import json
import logging

from core.logging import JSONFormatter, request_id_var


def test_json_line_with_request_id_and_extras():
    record = logging.makeLogRecord(
        {"name": "t", "levelname": "INFO", "msg": "hello %s", "args": ("you",), "status": 201}
    )
    token = request_id_var.set("req-1")
    try:
        line = json.loads(JSONFormatter("pms").format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello you" and line["request_id"] == "req-1"
    assert line["service"] == "pms" and line["status"] == 201 and line["ts"].endswith("Z")
