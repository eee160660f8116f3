"""Building an OpenAPI 3.1 document: JSON Schema helpers, operations and the shared answers.

``Spec`` collects one service's paths and component schemas. ``Spec.operation`` adds the
answers the API's conventions give every route of its kind, so a route's description lists
only what is its own: 401 behind the token, 429 when rate limited, 503 while the database is
down, 422 when it reads parameters or a body, 400/413/415 when it reads a body, 403 for a
cross-site write, 415 for any write declaring a type other than JSON. Every error answer is
the API's error object with the codes that status can carry; every answer names
``X-Request-ID``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from core.pagination import DEFAULT_LIMIT, MAX_LIMIT

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
Schema = dict[str, Any]

# -- JSON Schema -------------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or ``null``."""
    if "type" in schema and "$ref" not in schema and "enum" not in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return {**schema, "type": [*types, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], required: Iterable[str] | None = None, **extra: Any) -> Schema:
    """An object; every property is required unless ``required`` says otherwise."""
    names = list(properties) if required is None else list(required)
    schema: Schema = {"type": "object", "properties": properties, **extra}
    if names:
        schema["required"] = names
    return schema


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def string(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def integer(**extra: Any) -> Schema:
    return {"type": "integer", **extra}


def enum(values: Iterable[str], **extra: Any) -> Schema:
    return {"type": "string", "enum": list(values), **extra}


TIME = string(format="date-time", description="ISO 8601 UTC with Z")
DATE = string(format="date")
ID = integer(minimum=1)
COUNT = integer(minimum=0)
MONEY = string(pattern=r"^-?[0-9]+\.[0-9]{2}$", description="a decimal amount as a string")
ANY_OBJECT = {"type": "object"}


def data(schema: Schema) -> Schema:
    """The success body: ``{"data": ...}``."""
    return obj({"data": schema})


def page(item: Schema) -> Schema:
    """A list body: ``{"data": [...], "next_cursor": ...}``."""
    return obj(
        {
            "data": array(item),
            "next_cursor": nullable(string(description="pass as ?cursor= for the next page; null on the last page")),
        }
    )


# -- parameters --------------------------------------------------------------------------------


def path_param(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def header(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


def id_param(name: str, what: str) -> Schema:
    """An integer id in the path (any run of digits routes; one that matches nothing is 404)."""
    return path_param(name, integer(minimum=0), f"the {what}'s id")


LIMIT = query(
    "limit", integer(minimum=1, default=DEFAULT_LIMIT), f"page size; above {MAX_LIMIT} is treated as {MAX_LIMIT}"
)
CURSOR = query("cursor", string(), "the next_cursor of the previous page (opaque)")
SINCE_ID = query(
    "since_id", integer(minimum=0), "only rows with a greater id, oldest first (for tailing); ignored with cursor"
)
PAGING = (LIMIT, CURSOR, SINCE_ID)

# -- answers -----------------------------------------------------------------------------------

# Headers, defined once in the document's components and referred to by every answer.
HEADERS = {
    "X-Request-ID": {
        "description": "the caller's X-Request-ID when well formed, else a new one",
        "required": True,
        "schema": string(),
    },
    "RateLimit-Limit": {"description": "requests allowed per window (when API_RATE_LIMIT is set)", "schema": string()},
    "RateLimit-Remaining": {"description": "requests left in the window", "schema": string()},
    "RateLimit-Reset": {"description": "seconds until one more request is allowed", "schema": string()},
    "Retry-After": {"description": "seconds to wait before retrying", "required": True, "schema": string()},
    "WWW-Authenticate": {"description": "the bearer realm", "schema": string()},
}
# The RateLimit headers are on every answer of a rate-limited route once API_RATE_LIMIT is set;
# they are listed on the 429 answer, where they matter, to keep the document readable.
EVERY_ANSWER = ("X-Request-ID",)
RATE_LIMIT = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def header_ref(name: str) -> Schema:
    return {"$ref": f"#/components/headers/{name}"}


# The error codes each status can carry (the API's error vocabulary, by status).
ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("invalid_json", "missing_header", "bad_request"),
    401: ("unauthorized", "invalid_signature", "timestamp_out_of_tolerance"),
    403: ("forbidden",),
    404: ("not_found",),
    405: ("method_not_allowed",),
    409: ("conflict",),
    413: ("payload_too_large",),
    415: ("unsupported_media_type",),
    422: ("validation_error",),
    429: ("rate_limited",),
    500: ("internal_error",),
    503: ("service_unavailable",),
}

ERROR_DESCRIPTIONS = {
    400: "the body is not a JSON object (invalid_json)",
    401: "a valid bearer token is required (when API_TOKEN is set)",
    403: "a browser page of another origin tried to write (CORS_ALLOWED_ORIGINS)",
    404: "no such resource",
    405: "the route does not take this method",
    409: "conflict with the current state",
    413: "the body is larger than the service's limit",
    415: "the body is not declared application/json",
    422: "a parameter, header or body field is invalid; details name each one",
    429: "over API_RATE_LIMIT; retry after Retry-After seconds",
    500: "an internal error (no details; the request id is logged)",
    503: "the database is unavailable; retry shortly",
}


def error_body(codes: Iterable[str]) -> Schema:
    """The error object restricted to ``codes``."""
    return obj(
        {
            "error": obj(
                {
                    "code": enum(codes),
                    "message": string(),
                    "details": array(obj({"field": string(), "message": string()})),
                    "request_id": string(),
                }
            )
        }
    )


def error_schemas() -> dict[str, Schema]:
    """``Error<status>``: the error object with the codes of that status."""
    return {f"Error{status}": error_body(codes) for status, codes in ERROR_CODES.items()}


def answer(description: str, schema: Schema | None = None, media: str = JSON, headers: Iterable[str] = ()) -> Schema:
    """One documented answer: its body (if any) and headers, ``X-Request-ID`` always among them."""
    response: Schema = {
        "description": description,
        "headers": {name: header_ref(name) for name in (*EVERY_ANSWER, *headers)},
    }
    if schema is not None:
        response["content"] = {media: {"schema": schema}}
    return response


def with_links(response: Schema, targets: Iterable[str], **parameters: str) -> Schema:
    """``response`` with an OpenAPI link to each operation in ``targets``, passing it
    ``parameters`` (name -> runtime expression such as ``$response.body#/data/id``): what a
    client, or the fuzz's stateful phase, can do next with what it got."""
    links = {target: {"operationId": target, "parameters": dict(parameters)} for target in targets}
    return {**response, "links": links}


def error(status: int, description: str | None = None, codes: Iterable[str] | None = None) -> Schema:
    """An error answer: the error object, restricted to ``codes`` when given."""
    headers = {429: ["Retry-After", *RATE_LIMIT], 503: ["Retry-After"], 401: ["WWW-Authenticate"]}.get(status, [])
    schema = error_body(codes) if codes is not None else ref(f"Error{status}")
    return answer(description or ERROR_DESCRIPTIONS[status], schema, headers=headers)


# -- the document ------------------------------------------------------------------------------


class Spec:
    """One service's OpenAPI document under construction."""

    def __init__(self, title: str, description: str, version: str, base_path: str):
        self.base_path = base_path
        self.info = {"title": title, "version": version, "description": description}
        self.paths: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, Schema] = {}
        self.tags: dict[str, str] = {}

    def schema(self, name: str, schema: Schema) -> Schema:
        """Register a component schema; returns a reference to it."""
        self.schemas[name] = schema
        return ref(name)

    def tag(self, name: str, description: str) -> None:
        self.tags[name] = description

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        responses: dict[int, Schema],
        operation_id: str,
        description: str | None = None,
        params: Iterable[Schema] = (),
        body: Schema | None = None,
        body_required: bool = True,
        auth: bool = True,
        rate_limited: bool = True,
        database: bool = True,
        base: bool = True,
        cross_site_checked: bool = True,
        validates: bool = True,
        errors: Callable[[int], Schema] = error,
        examples: dict[str, Any] | None = None,
    ) -> None:
        """Add ``method path`` (``path`` under the base path unless ``base=False``) with its own
        ``responses`` and the ones its kind shares (rendered by ``errors``: the API's error
        object unless the route answers in a shape of its own). ``examples`` are named request
        bodies (shown by documentation tools, and sent as they are by the fuzz)."""
        params = list(params)
        responses = dict(responses)
        method = method.lower()
        shared: set[int] = set()
        if body is not None:
            shared |= {400, 413, 415}
        if validates and (params or body is not None):
            shared.add(422)
        if method in ("post", "put", "delete", "patch"):
            # A write that declares a Content-Type other than JSON is refused even with no body
            # (a cross-site form post must never act).
            shared.add(415)
            if cross_site_checked:
                shared.add(403)
        if auth:
            shared.add(401)
        if rate_limited:
            shared.add(429)
        if database:
            shared.add(503)
        for status in shared - set(responses):
            responses[status] = errors(status)
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": summary,
            "tags": [tag],
            "security": [{"bearer": []}] if auth else [],
            "responses": {str(status): responses[status] for status in sorted(responses)},
        }
        if description:
            operation["description"] = description
        if params:
            operation["parameters"] = params
        if body is not None:
            media: dict[str, Any] = {"schema": body}
            if examples:
                media["examples"] = {name: {"value": value} for name, value in examples.items()}
            operation["requestBody"] = {"required": body_required, "content": {JSON: media}}
        full = (self.base_path + path) if base else path
        self.paths.setdefault(full, {})[method] = operation

    def document(self) -> dict[str, Any]:
        return {
            "openapi": OPENAPI_VERSION,
            "info": self.info,
            "tags": [{"name": name, "description": text} for name, text in self.tags.items()],
            "paths": dict(sorted(self.paths.items())),
            "components": {
                "schemas": dict(sorted({**error_schemas(), **self.schemas}.items())),
                "headers": HEADERS,
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "Authorization: Bearer <API_TOKEN>; enforced only when the "
                        "service is configured with API_TOKEN.",
                    }
                },
            },
        }
