"""Helpers for HTTP tests through the real applications."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPResponse


async def call(
    client: AsyncHTTPClient,
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict | None = None,
    raw: bytes | None = None,
) -> HTTPResponse:
    """One request that never raises on 4xx/5xx; ``body`` is sent as JSON, and so is declared
    an empty POST/PUT body."""
    headers = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    if data is None and method in ("POST", "PUT", "PATCH"):
        data = b""
        # Tornado's client declares a form for a POST without a type, which the APIs refuse (415);
        # send byte-exact requests with ``raw_exchange`` to test what has no Content-Type at all.
        headers.setdefault("Content-Type", "application/json")
    return await client.fetch(
        base_url + path, method=method, body=data, headers=headers, raise_error=False, allow_nonstandard_methods=True
    )


def json_of(response: HTTPResponse) -> Any:
    return json.loads(response.body) if response.body else None


async def raw_exchange(base_url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` byte for byte (no client adds or fixes a header) on a fresh connection
    and read the answer until the server closes it: status, headers (lower-case names), body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", urlparse(base_url).port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body
