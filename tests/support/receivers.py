"""Fault-injecting webhook receivers for delivery tests: real HTTP servers on a thread of their own.

``Receiver(behaviour)`` listens on 127.0.0.1 (a free port) with its own event loop, so it works
from plain and async tests alike. It keeps every request it got (headers, raw body) and counts
hits by ``webhook-id``. A behaviour maps the n-th request (0-based) to a ``Reply``; the ones
below cover the faults the delivery worker must survive (among them answers that drip one byte
at a time and answers that never end, whose fate is kept in ``Receiver.answers``). ``wait_until``
polls with a deadline.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import tornado.httpserver
import tornado.iostream
import tornado.web

from core.server import make_http_server
from tests.support.processes import free_port


@dataclass(frozen=True)
class Reply:
    status: int = 202
    body: bytes = b'{"data":{"status":"accepted"}}'
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    drip: float = 0.0  # > 0: send ``body`` one byte at a time, this many seconds apart
    stream: int = 0  # > 0: after ``body``, send this many more bytes in 16 KiB chunks


@dataclass(frozen=True)
class Received:
    webhook_id: str
    headers: dict
    body: bytes
    at: float
    peer: tuple | None = None  # the client's (address, port): one per connection


@dataclass
class Answer:
    """How a dripping or streaming answer went, from the receiver's side."""

    sent: int = 0  # body bytes written to the connection
    closed_early: bool = False  # the client hung up before the answer was complete
    finished: bool = False


Behaviour = Callable[[int, Received], Reply]


def accept(n: int, req: Received) -> Reply:
    return Reply()


def always(status: int, **kw) -> Behaviour:
    return lambda n, req: Reply(status=status, body=b'{"error":{"code":"x"}}', **kw)


def slow(seconds: float) -> Behaviour:
    return lambda n, req: Reply(delay=seconds)


def redirect(location: str = "http://127.0.0.1:9/elsewhere", status: int = 302) -> Behaviour:
    return lambda n, req: Reply(status=status, body=b"", headers={"Location": location})


def rate_limited(retry_after: str, times: int = 1, status: int = 429) -> Behaviour:
    """``status`` with ``Retry-After`` for the first ``times`` requests, then accept."""

    def behave(n: int, req: Received) -> Reply:
        if n < times:
            return Reply(status=status, body=b'{"error":{"code":"rate_limited"}}', headers={"Retry-After": retry_after})
        return Reply()

    return behave


def dripping(length: int, interval: float, status: int = 200) -> Behaviour:
    """``status`` at once, then a body of ``length`` bytes, one byte every ``interval`` seconds."""
    return lambda n, req: Reply(status=status, body=b"x" * length, drip=interval)


def endless(size: int = 64 * 1024 * 1024, status: int = 200) -> Behaviour:
    """``status`` and a chunked body of ``size`` bytes, written as fast as the client reads."""
    return lambda n, req: Reply(status=status, body=b"", stream=size)


def flapping(pattern: str) -> Behaviour:
    """``pattern`` like ``"FFS"``: F = 500, S = 202, cycled over requests."""
    cycle = list(pattern)
    return lambda n, req: Reply() if cycle[n % len(cycle)] == "S" else Reply(status=500, body=b"down")


class _Handler(tornado.web.RequestHandler):
    def initialize(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def post(self, *args) -> None:
        reply = self.receiver._record(self.request)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        self.set_status(reply.status)
        for name, value in reply.headers.items():
            self.set_header(name, value)
        if reply.drip or reply.stream:
            await self._send_slowly(reply)
        elif reply.body:
            self.set_header("Content-Type", "application/json")
            self.write(reply.body)

    async def _send_slowly(self, reply: Reply) -> None:
        answer = self.receiver._answer()
        chunk = b"y" * 16384
        try:
            await self.flush()  # the status line and headers go out at once
            if reply.drip:
                for byte in reply.body:
                    await asyncio.sleep(reply.drip)
                    self.write(bytes([byte]))
                    await self.flush()
                    answer.sent += 1
            while answer.sent < len(reply.body) + reply.stream:
                piece = chunk[: len(reply.body) + reply.stream - answer.sent]
                self.write(piece)
                await self.flush()
                answer.sent += len(piece)
        except tornado.iostream.StreamClosedError:
            answer.closed_early = True
        answer.finished = True


class Receiver:
    def __init__(self, behaviour: Behaviour = accept, path: str = "/api/v1/webhooks/pms"):
        self.behaviour = behaviour
        self.path = path
        self.received: list[Received] = []
        self.answers: list[Answer] = []
        self.hits: collections.Counter = collections.Counter()
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.setblocking(False)
        self.port = self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def _record(self, request) -> Received:
        headers = {k.lower(): v for k, v in request.headers.get_all()}
        peer = getattr(getattr(request.connection, "context", None), "address", None)
        req = Received(
            headers.get("webhook-id", ""), headers, request.body, time.monotonic(), tuple(peer) if peer else None
        )
        with self._lock:
            n = next(self._counter)
            self.received.append(req)
            self.hits[req.webhook_id] += 1
        return self.behaviour(n, req)

    def _answer(self) -> Answer:
        answer = Answer()
        with self._lock:
            self.answers.append(answer)
        return answer

    def start(self) -> Receiver:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = tornado.web.Application([(self.path, _Handler, {"receiver": self})])
            server = tornado.httpserver.HTTPServer(app)
            server.add_socket(self._sock)
            self._server = server
            self._loop.call_soon(ready.set)
            self._loop.run_forever()
            server.stop()
            self._loop.run_until_complete(server.close_all_connections())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=f"receiver-{self.port}", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what arrived --------------------------------------------------------------------------

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def envelopes(self) -> list[dict]:
        with self._lock:
            return [json.loads(r.body) for r in self.received]

    def hits_of(self, webhook_id: str) -> int:
        with self._lock:
            return self.hits[webhook_id]


def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02, message: str = "condition"
) -> object:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


async def wait_for(
    predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.01, message: str = "condition"
) -> object:
    """``wait_until`` for a coroutine: polls without blocking the IOLoop the servers under test run on."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)


class ServedApp:
    """A real Tornado application (the CRM, say) served on its own thread and a fixed port.

    ``stop()`` closes the listening socket and every connection (the endpoint refuses
    connections, like a crashed service); ``start()`` serves again on the same port.
    ``factory`` builds the application inside the serving thread's event loop.
    """

    def __init__(self, factory: Callable[[], tornado.web.Application], path: str = "/api/v1/webhooks/pms"):
        self.factory = factory
        self.path = path
        self.port = free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServedApp:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)

            async def open_server():
                server = make_http_server(self.factory())
                server.listen(self.port, "127.0.0.1", reuse_port=False)
                return server

            try:
                server = loop.run_until_complete(open_server())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            loop.call_soon(ready.set)
            loop.run_forever()
            server.stop()
            loop.run_until_complete(server.close_all_connections())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"served-{self.port}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(15)
            self._thread = None
