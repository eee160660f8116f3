"""Every GraphQL failure as the spec's error entry: ``{"message", "path", "extensions": {"code"}}``.

Codes reuse the REST vocabulary (``validation_error``, ``not_found``, ``unauthorized``,
``service_unavailable``, ``internal_error``...) plus the GraphQL-only ``graphql_parse_failed``,
``graphql_validation_failed``, ``query_too_deep`` and ``query_too_costly``. An unexpected
exception in a resolver is logged with its traceback and answered without details.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from ..db import DatabaseUnavailable
from ..errors import ApiError

log = logging.getLogger("guestsync.graphql")

PARSE_FAILED = "graphql_parse_failed"
VALIDATION_FAILED = "graphql_validation_failed"


def entry(message: str, code: str, path: list | None = None, **extensions) -> dict:
    return {"message": message, "path": path, "extensions": {"code": code, **extensions}}


def from_api_error(exc: ApiError, request_id: str | None = None, path: list | None = None) -> dict:
    extensions: dict[str, Any] = {"details": exc.details} if exc.details else {}
    if request_id:
        extensions["request_id"] = request_id
    return entry(exc.message, exc.code, path, **extensions)


def from_request_error(error: GraphQLError, default_code: str) -> dict:
    """An error found before execution (syntax, validation, limits): no path."""
    code = (error.extensions or {}).get("code", default_code)
    found = entry(error.message, code)
    if error.locations:
        found["locations"] = [{"line": at.line, "column": at.column} for at in error.locations]
    return found


def from_execution_error(error: GraphQLError, request_id: str | None) -> dict:
    """An error raised while resolving a field: the domain's own code, or an internal error."""
    original = error.original_error
    path = list(error.path) if error.path else None
    if isinstance(original, ApiError):
        return from_api_error(original, None, path)
    if isinstance(original, DatabaseUnavailable):
        log.warning("database unavailable: %s", original)
        return entry("the database is unavailable; retry shortly", "service_unavailable", path)
    if original is not None:
        log.error("resolver failed at %s", path, exc_info=(type(original), original, original.__traceback__))
    else:
        log.error("GraphQL execution error at %s: %s", path, error.message)
    return entry(f"an internal error occurred; it has been logged with request id {request_id}", "internal_error", path)
