"""Helpers for HTTP tests through the real applications."""

from __future__ import annotations

import json
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPResponse


async def call(client: AsyncHTTPClient, base_url: str, method: str, path: str, body: Any = None,
               headers: dict | None = None, raw: bytes | None = None) -> HTTPResponse:
    """One request that never raises on 4xx/5xx; ``body`` is sent as JSON."""
    headers = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    if data is None and method in ("POST", "PUT", "PATCH"):
        data = b""
    return await client.fetch(base_url + path, method=method, body=data, headers=headers,
                              raise_error=False, allow_nonstandard_methods=True)


def json_of(response: HTTPResponse) -> Any:
    return json.loads(response.body) if response.body else None
