"""Base request handlers shared by every service.

``BaseHandler`` gives every response an ``X-Request-ID`` and exposes the shared objects of
``Application.settings`` as properties, and counts the requests in flight. ``APIHandler`` adds
the JSON conventions of docs/http.md: bearer-token auth, a streamed body with a hard size limit
(413 before the body is buffered), 415 for anything not declared JSON, ``json_body()`` with
400 errors, and ``write_error`` that renders every failure as the error object (with the
request id, without a stack trace). ``NotFoundHandler`` answers unknown routes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from tornado.http1connection import HTTP1Connection
from tornado.web import HTTPError, RequestHandler, stream_request_body

from .auth import token_accepted
from .cors import add_cors_headers, refuse_cross_site_write
from .contract import MAX_ID
from .db import DatabaseUnavailable, Store
from .errors import (
    STATUS_CODES,
    ApiError,
    InvalidJSONError,
    NotFoundError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from .jsonio import dumps, parse_json
from .logging import request_id_var
from .tracing import continue_or_start, trace_var
from .request_ids import new_request_id
from .pagination import PageRequest, parse_non_negative_int, parse_page_request
from .ratelimit import Verdict, add_rate_limit_headers, enforce_rate_limit

log = logging.getLogger("guestsync.http")

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


class InFlight:
    """How many requests an application is serving, so a stopping server can let them finish.

    A request counts from ``prepare`` until ``on_finish`` or, for one that never finishes (its
    body was refused or cut off while being read: the client hung up, broke the chunked
    framing, or went past the size limit), ``on_connection_close``. Leaving is idempotent, so
    a request that sees both is counted out once.
    """

    def __init__(self) -> None:
        self.count = 0


class BaseHandler(RequestHandler):
    """Request id, access to shared settings objects, and metrics/access logging hooks."""

    route_name: str | None = None
    # The request's count against API_RATE_LIMIT, once taken (its headers go on errors too).
    rate_limit_verdict: Verdict | None = None
    _counted = False

    def set_default_headers(self) -> None:
        if not hasattr(self, "request_id"):
            given = self.request.headers.get("X-Request-ID", "")
            self.request_id = given if _REQUEST_ID_OK.match(given) else new_request_id()
        self.set_header("X-Request-ID", self.request_id)
        # Also called again when an error clears the headers, so errors keep these too.
        add_cors_headers(self)
        add_rate_limit_headers(self)

    def prepare(self):
        request_id_var.set(self.request_id)
        trace_var.set(self.trace_context())
        in_flight = self.settings.get("in_flight")
        if in_flight is not None and not self._counted:
            in_flight.count += 1
            self._counted = True

    def trace_context(self):
        """This request's place in a trace: the OpenTelemetry server span's when tracing is
        exported (its instrumentation has read the incoming ``traceparent``), else a new span of
        the incoming trace, or a new trace (an invalid ``traceparent`` is ignored)."""
        source = self.settings.get("trace_source")
        context = source() if source is not None else None
        return context or continue_or_start(self.request.headers.get("traceparent"))

    def on_finish(self) -> None:
        self._leave_in_flight()

    def on_connection_close(self) -> None:
        super().on_connection_close()
        self._leave_in_flight()

    def _leave_in_flight(self) -> None:
        if self._counted:
            self._counted = False
            self.settings["in_flight"].count -= 1

    @property
    def config(self):
        """The service's frozen Settings dataclass."""
        return self.settings["config"]

    @property
    def store(self) -> Store:
        return self.settings["store"]


@stream_request_body
class APIHandler(BaseHandler):
    """JSON API handler: auth, size-limited body, JSON errors."""

    requires_auth = True
    # Counted against API_RATE_LIMIT (the webhook receiver and /health opt out).
    rate_limited = True
    # Writes from browser pages of other origins are refused (the webhook receiver opts out:
    # its signature, not the caller's origin, decides).
    refuses_cross_site_writes = True

    @property
    def max_body_bytes(self) -> int:
        return self.settings.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)

    def prepare(self):
        super().prepare()
        enforce_rate_limit(self)
        if self.refuses_cross_site_writes:
            refuse_cross_site_write(self)
        self._chunks: list[bytes] = []
        self._body_size = 0
        self._body_too_large = False
        declared = (self.request.headers.get("Content-Length") or "").strip()
        # Tornado checks the header only after prepare(); thousands of digits are too large
        # (and more than Python converts to an int at all).
        if declared.isdecimal() and (len(declared) > 18 or int(declared) > self.max_body_bytes):
            raise PayloadTooLargeError(f"the body is larger than {self.max_body_bytes} bytes")
        # A chunked body past the limit is counted in data_received; one far past it is cut off.
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection):
            connection.set_max_body_size(self.max_body_bytes + 64 * 1024)
        if self.requires_auth:
            self.check_token()
        self.check_media_type()

    def check_token(self) -> None:
        token = self.settings.get("api_token")
        if not token:
            return
        if not token_accepted(self.request.headers, token):
            raise UnauthorizedError(
                "a valid bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="guestsync"'}
            )

    def data_received(self, chunk: bytes) -> None:
        self._body_size += len(chunk)
        if self._body_size > self.max_body_bytes:
            self._body_too_large = True
            self._chunks.clear()
        else:
            self._chunks.append(chunk)

    @property
    def body(self) -> bytes:
        """The raw request body; 413 when it went past the limit."""
        if self._body_too_large:
            raise PayloadTooLargeError(f"the body is larger than {self.max_body_bytes} bytes")
        if not hasattr(self, "_body"):
            self._body = b"".join(self._chunks)
        return self._body

    def check_media_type(self) -> None:
        """415 unless a request with a body, or a write declaring a Content-Type, declares JSON.

        A cross-site "simple" POST (a form, ``text/plain``) must never act, even with an empty
        body; a request with neither body nor Content-Type (a replay) passes, and so does a
        read that names a type but sends nothing. A method the route does not implement is
        its 405 whatever the body.
        """
        method = (self.request.method or "").lower()
        if getattr(type(self), method, None) is getattr(RequestHandler, method, None):
            raise HTTPError(405)
        declared = self.request.headers.get("Content-Length")
        has_body = (declared is not None and declared.strip() != "0") or "Transfer-Encoding" in self.request.headers
        declares_type = "Content-Type" in self.request.headers and method not in ("get", "head", "options")
        if has_body or declares_type:
            self.check_json_content_type(required=True)

    def check_json_content_type(self, required: bool = False) -> None:
        """415 unless the Content-Type is JSON; an absent header passes unless ``required``."""
        content_type = self.request.headers.get("Content-Type")
        if content_type is None:
            if required:
                raise UnsupportedMediaTypeError("Content-Type must be application/json")
            return
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise UnsupportedMediaTypeError(f"Content-Type must be application/json, got {media or 'nothing'}")

    def json_body(self) -> dict:
        """The body as a JSON object (400 ``invalid_json`` otherwise)."""
        body = self.body
        if not body.strip():
            raise InvalidJSONError("the body is empty; a JSON object is expected")
        value = parse_json(body)
        if not isinstance(value, dict):
            raise InvalidJSONError("the body must be a JSON object")
        return value

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        """Query arguments that are not UTF-8 are a 422 on that field; path arguments a 404."""
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            if name is None:
                raise HTTPError(404, "no such resource") from None
            raise ValidationError.single(name, "must be valid UTF-8 text") from None

    def path_id(self, digits: str, what: str = "resource") -> int:
        """An integer id from the path (its route admits digits only); 404 past the largest id
        a BIGINT holds, before any query (no database takes it, and Python refuses to even
        convert thousands of digits)."""
        digits = digits.lstrip("0") or "0"
        if len(digits) > len(str(MAX_ID)) or int(digits) > MAX_ID:
            raise NotFoundError(f"no such {what}")
        return int(digits)

    def page_request(self) -> PageRequest:
        """``limit``/``cursor``/``since_id`` of a list request (422 when malformed)."""
        return parse_page_request(lambda name: self.get_argument(name, None))

    def int_argument(self, name: str) -> int | None:
        """An optional non-negative integer query argument (422 when malformed)."""
        raw = self.get_argument(name, None)
        if raw is None or raw == "":
            return None
        return parse_non_negative_int(name, raw)

    def choice_argument(self, name: str, choices: tuple[str, ...]) -> str | None:
        """An optional query argument restricted to ``choices`` (422 otherwise)."""
        raw = self.get_argument(name, None)
        if raw is None or raw == "":
            return None
        if raw not in choices:
            raise ValidationError.single(name, f"must be one of {', '.join(choices)}")
        return raw

    def write_list(self, rows: list, next_cursor: str | None) -> None:
        self.write_json({"data": rows, "next_cursor": next_cursor})

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(dumps(data))

    def write_data(self, data: Any, status: int = 200, **extra: Any) -> None:
        self.write_json({"data": data, **extra}, status)

    def failure(self, status_code: int, exc_info: Any = None) -> ApiError:
        """What went wrong, as the API's error (one place for every error path): our own
        errors as raised, Tornado's 4xx with their code, a database outage as 503, anything else
        as a 500 that names the request id and shows nothing of its cause."""
        exc = (exc_info or (None, None, None))[1]
        if isinstance(exc, DatabaseUnavailable):
            return ServiceUnavailableError("the database is unavailable; retry shortly", headers={"Retry-After": "5"})
        if isinstance(exc, ApiError):
            return exc
        if isinstance(exc, HTTPError) and exc.status_code < 500:
            return ApiError(
                exc.log_message or self._reason, status=exc.status_code, code=STATUS_CODES.get(exc.status_code, "error")
            )
        status = 500 if status_code < 500 else status_code
        return ApiError(
            f"an internal error occurred; it has been logged with request id {self.request_id}",
            status=status,
            code=STATUS_CODES.get(status, "internal_error"),
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = self.failure(status_code, kwargs.get("exc_info"))
        self.set_status(error.status)
        for name, value in error.headers.items():
            self.set_header(name, value)
        body = error.body()
        # The same id as the X-Request-ID header: what a caller quotes when reporting an error.
        body["error"]["request_id"] = self.request_id
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(dumps(body))

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, DatabaseUnavailable):
            log.warning("database unavailable: %s", value)
        elif isinstance(value, ApiError) and value.status < 500:
            return
        elif isinstance(value, HTTPError) and value.status_code < 500:
            return
        else:
            super().log_exception(typ, value, tb)


class NotFoundHandler(APIHandler):
    """Unknown routes (and ids that are not integers) answer the JSON 404."""

    requires_auth = False

    def prepare(self):
        super().prepare()
        raise HTTPError(404, "no such route")

    def check_media_type(self) -> None:
        """An unknown route is a 404 whatever its method or body."""
