"""Clients for the ``graphql-transport-ws`` tests: Tornado's websocket client, and a raw one that
stops reading (a slow subscriber)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from urllib.parse import urlparse

from tornado.websocket import WebSocketClientConnection, websocket_connect

PATH = "/api/v1/graphql/ws"
PROTOCOL = "graphql-transport-ws"


async def connect(
    base_url: str,
    protocols: tuple[str, ...] = (PROTOCOL,),
    headers: dict | None = None,
) -> WebSocketClientConnection:
    from tornado.httpclient import HTTPRequest

    request = HTTPRequest(base_url.replace("http", "ws", 1) + PATH, headers=headers or {})
    return await websocket_connect(request, subprotocols=list(protocols))


async def send(conn: WebSocketClientConnection, message: dict) -> None:
    await conn.write_message(json.dumps(message))


async def receive(conn: WebSocketClientConnection, timeout: float = 5.0) -> dict | None:
    """The next message, or ``None`` once the server closed the socket."""
    raw = await asyncio.wait_for(conn.read_message(), timeout)
    return None if raw is None else json.loads(raw)


async def close_code(conn: WebSocketClientConnection, timeout: float = 5.0) -> int | None:
    """Read until the server closes; its close code."""
    while await receive(conn, timeout) is not None:
        pass
    return conn.close_code


async def initialised(base_url: str, payload: dict | None = None) -> WebSocketClientConnection:
    conn = await connect(base_url)
    await send(conn, {"type": "connection_init", **({"payload": payload} if payload is not None else {})})
    assert await receive(conn) == {"type": "connection_ack"}
    return conn


class StalledClient:
    """A websocket client that subscribes and then never reads again, on a socket with a tiny
    receive buffer, so whatever the server sends piles up on the server's side."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base_url: str) -> StalledClient:
        port = urlparse(base_url).port
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send(self, message: dict) -> None:
        data = json.dumps(message).encode()
        mask = os.urandom(4)
        if len(data) < 126:
            head = bytes([0x81, 0x80 | len(data)])
        else:
            head = bytes([0x81, 0x80 | 126]) + struct.pack("!H", len(data))
        frame = head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.writer.write(frame)

    async def read_frame(self) -> tuple[int, bytes]:
        first, second = await self.reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return first & 0x0F, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()
