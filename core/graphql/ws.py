"""``{base}/graphql/ws``: GraphQL over a websocket, the ``graphql-transport-ws`` protocol.

The client opens with the ``graphql-transport-ws`` subprotocol (else close 4406), sends
``connection_init`` within ``graphql_ws_init_timeout`` seconds (else 4408), with
``{"Authorization": "Bearer <token>"}`` as its payload when ``API_TOKEN`` is set (else 4403), and
gets ``connection_ack``. Then each ``subscribe`` runs an operation under its id: the same
checks as over HTTP (a refusal is an ``error`` message), then ``next`` for each result and
``complete`` at the end; the client's ``complete`` stops it. ``ping`` gets ``pong``. Protocol
errors close the socket: 4400 for a malformed message, 4401 for ``subscribe`` before the ack,
4409 for an id already running, 4429 for a second ``connection_init``. A client whose
subscription fell too far behind is closed with 4000 (it may reconnect).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

from tornado.httputil import HTTPHeaders
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ..auth import token_accepted
from ..db import Store
from ..errors import STATUS_CODES
from ..jsonio import dumps
from .context import Context
from .execution import Prepared, Refused, Schema, execute, prepare, read_request, result_body

log = logging.getLogger("guestsync.graphql.ws")

PROTOCOL = "graphql-transport-ws"
DEFAULT_INIT_TIMEOUT = 3.0
CLOSE_TOO_SLOW = 4000


class GraphQLWebSocketHandler(WebSocketHandler):
    def initialize(self, schema: Schema) -> None:
        self.schema = schema
        self.acknowledged = False
        self._init_seen = False
        self._init_timer: object | None = None
        self.operations: dict[str, asyncio.Task] = {}

    @property
    def store(self) -> Store:
        return self.settings["store"]

    def set_default_headers(self) -> None:
        # Called before ``initialize``, and again when an error clears the headers.
        if not hasattr(self, "request_id"):
            self.request_id = uuid.uuid4().hex
        self.set_header("X-Request-ID", self.request_id)

    async def get(self, *args, **kwargs) -> None:
        """A plain HTTP request (no websocket upgrade) is answered like any API error: JSON."""
        headers = self.request.headers
        connection = {part.strip().lower() for part in headers.get("Connection", "").split(",")}
        if headers.get("Upgrade", "").lower() != "websocket" or "upgrade" not in connection:
            self.write_json_error(
                400,
                "bad_request",
                "this route is a websocket (graphql-transport-ws): open it with an Upgrade: websocket request",
            )
            return
        await super().get(*args, **kwargs)

    def write_error(self, status_code: int, **kwargs) -> None:
        """Another method than GET (405) and the like, as the API's JSON error."""
        self.write_json_error(
            status_code,
            STATUS_CODES.get(status_code, "internal_error"),
            self._reason if status_code < 500 else "an internal error occurred",
        )

    def write_json_error(self, status: int, code: str, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(dumps({"error": {"code": code, "message": message, "details": [], "request_id": self.request_id}}))

    @property
    def init_timeout(self) -> float:
        return self.settings.get("graphql_ws_init_timeout", DEFAULT_INIT_TIMEOUT)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return PROTOCOL if PROTOCOL in subprotocols else None

    def open(self) -> None:
        if self.selected_subprotocol != PROTOCOL:
            self.close(4406, "Subprotocol not acceptable")
            return
        self._init_timer = IOLoop.current().call_later(self.init_timeout, self._init_timed_out)

    def _init_timed_out(self) -> None:
        if not self.acknowledged:
            self.close(4408, "Connection initialisation timeout")

    def on_message(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        handlers = {
            "connection_init": self._connection_init,
            "ping": self._ping,
            "pong": self._pong,
            "subscribe": self._subscribe,
            "complete": self._complete,
        }
        # Only a string names a message type (an unhashable one would not even be looked up).
        handle = handlers.get(kind) if isinstance(kind, str) else None
        if handle is None:
            self.close(4400, "Invalid message received")
            return
        handle(message)

    def _connection_init(self, message: dict) -> None:
        if self._init_seen:
            self.close(4429, "Too many initialisation requests")
            return
        self._init_seen = True
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            self.close(4400, "Invalid message received")
            return
        if not self._authorised(payload or {}):
            self.close(4403, "Forbidden")
            return
        if self._init_timer is not None:
            IOLoop.current().remove_timeout(self._init_timer)
        self.acknowledged = True
        self._send({"type": "connection_ack"})

    def _authorised(self, payload: dict) -> bool:
        """With ``API_TOKEN`` set, the bearer token of the init payload's ``Authorization`` (or
        of the upgrade request's header) must match it."""
        token = self.settings.get("api_token")
        if not token:
            return True
        headers = HTTPHeaders()
        given = next((v for k, v in payload.items() if k.lower() == "authorization"), None)
        if isinstance(given, str):
            headers["Authorization"] = given
        elif "Authorization" in self.request.headers:
            headers["Authorization"] = self.request.headers["Authorization"]
        return token_accepted(headers, token)

    def _ping(self, message: dict) -> None:
        self._send({"type": "pong"})

    def _pong(self, message: dict) -> None:
        """An answer to a ping of ours, or a heartbeat: nothing to do."""

    def _subscribe(self, message: dict) -> None:
        if not self.acknowledged:
            self.close(4401, "Unauthorized")
            return
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            self.close(4400, "Invalid message received")
            return
        if op_id in self.operations:
            self.close(4409, f"Subscriber for {op_id} already exists")
            return
        try:
            prepared = prepare(self.schema, read_request(payload))
        except Refused as refused:
            self._send({"id": op_id, "type": "error", "payload": refused.errors})
            return
        task = asyncio.get_running_loop().create_task(self._run(op_id, prepared))
        self.operations[op_id] = task
        task.add_done_callback(lambda _: self._operation_done(op_id, task))

    def _operation_done(self, op_id: str, task: asyncio.Task) -> None:
        if self.operations.get(op_id) is task:
            del self.operations[op_id]

    def _complete(self, message: dict) -> None:
        op_id = message.get("id")
        task = self.operations.pop(op_id, None) if isinstance(op_id, str) else None
        if task is not None:
            task.cancel()

    async def _run(self, op_id: str, prepared: Prepared) -> None:
        context = Context(
            store=self.store,
            settings=self.settings,
            request_id=self.request_id,
            drop_client=self.drop_too_slow,
            cache=False,
        )
        try:
            if not prepared.is_subscription:
                await self._write(
                    {"id": op_id, "type": "next", "payload": await execute(self.schema, prepared, context)}
                )
            else:
                request = prepared.request
                stream = await self.schema.subscribe(
                    request.query, request.variables, context, operation_name=request.operation_name
                )
                first = True
                async for result in stream:
                    if first and result.data is None and result.errors:
                        # The stream could not start (bad arguments): an error, not a result.
                        await self._write(
                            {"id": op_id, "type": "error", "payload": result_body(result, self.request_id)["errors"]}
                        )
                        return
                    first = False
                    await self._write({"id": op_id, "type": "next", "payload": result_body(result, self.request_id)})
            await self._write({"id": op_id, "type": "complete"})
        except WebSocketClosedError:
            pass

    def drop_too_slow(self) -> None:
        """A subscription's queue overflowed: stop everything and close (the client may reconnect
        and start again from the current state)."""
        log.warning("graphql-ws: closing a client that fell behind (request id %s)", self.request_id)
        self._cancel_operations()
        self.close(CLOSE_TOO_SLOW, "too far behind")

    def _cancel_operations(self) -> None:
        for task in self.operations.values():
            task.cancel()
        self.operations.clear()

    def on_close(self) -> None:
        if self._init_timer is not None:
            IOLoop.current().remove_timeout(self._init_timer)
        self._cancel_operations()

    def _send(self, message: dict) -> None:
        """Fire and forget a control message (the operation tasks await their own writes)."""
        if self.ws_connection is None or self.ws_connection.is_closing():
            return
        write = self.write_message(json.dumps(message))
        write.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _write(self, message: dict) -> None:
        """Wait until the message reached the socket: a slow reader slows its operations down,
        and their subscriptions' bounded queues fill up. Cancelling an operation must not cancel
        a write under way (Tornado's stream would log it), so the write is shielded and its
        outcome, if nobody waits for it any more, collected."""
        write = self.write_message(json.dumps(message))
        write.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.shield(write)
