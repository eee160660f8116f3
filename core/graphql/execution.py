"""One GraphQL operation from request to answer, the same way over HTTP and the websocket.

``prepare`` parses, validates, coerces the variables and checks the depth and cost limits
before anything runs; a failure there is a ``Refused`` (HTTP 400, or a websocket ``error``).
``execute`` then runs a query through the library's async execution and shapes its errors.
The library is given the already validated operation's text and told not to validate again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from strawberry.extensions import DisableValidation

from . import errors, limits
from .context import Context

# Longer documents are refused before parsing (a parser's work grows with the text).
MAX_QUERY_CHARS = 20_000


class Schema(strawberry.Schema):
    """A strawberry schema that leaves validation and error logging to this package."""

    def __init__(self, **kwargs: Any):
        extensions = [DisableValidation, *kwargs.pop("extensions", ())]
        super().__init__(extensions=extensions, **kwargs)

    def process_errors(self, errors, execution_context=None) -> None:
        """Expected errors (not found, bad cursor) are answers, not log lines; ``errors``
        logs the unexpected ones."""


class Refused(Exception):
    """The request cannot run; ``errors`` are GraphQL error entries."""

    def __init__(self, errors_: list[dict], status: int = 400):
        super().__init__(errors_[0]["message"] if errors_ else "refused")
        self.errors = errors_
        self.status = status


@dataclass(frozen=True)
class Request:
    query: str
    variables: dict
    operation_name: str | None


@dataclass(frozen=True)
class Prepared:
    request: Request
    operation: OperationDefinitionNode
    variables: dict

    @property
    def is_subscription(self) -> bool:
        return self.operation.operation == OperationType.SUBSCRIPTION


def read_request(body: Any) -> Request:
    """``{"query", "variables", "operationName"}`` (400 ``bad_request`` when malformed)."""

    def bad(message: str) -> Refused:
        return Refused([errors.entry(message, "bad_request")])

    if not isinstance(body, dict):
        raise bad("the body must be a JSON object")
    query, variables, name = body.get("query"), body.get("variables"), body.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise bad("query must be a non-empty string")
    if len(query) > MAX_QUERY_CHARS:
        raise bad(f"query is longer than {MAX_QUERY_CHARS} characters")
    if variables is not None and not isinstance(variables, dict):
        raise bad("variables must be an object")
    if name is not None and not isinstance(name, str):
        raise bad("operationName must be a string")
    return Request(query, variables or {}, name)


def _refused(found: list[GraphQLError], code: str) -> Refused:
    return Refused([errors.from_request_error(error, code) for error in found])


def prepare(schema: Schema, request: Request) -> Prepared:
    """The validated operation of ``request``, or ``Refused``."""
    try:
        document: DocumentNode = parse(request.query, max_tokens=5_000)
    except GraphQLSyntaxError as exc:
        raise _refused([exc], errors.PARSE_FAILED) from None
    if found := validate(schema._schema, document):
        raise _refused(found, errors.VALIDATION_FAILED)
    operation = get_operation_ast(document, request.operation_name)
    if operation is None:
        raise Refused(
            [
                errors.entry(
                    "the document has no such operation (or several and no operationName)", errors.VALIDATION_FAILED
                )
            ]
        )
    coerced = get_variable_values(schema._schema, operation.variable_definitions or (), request.variables)
    if isinstance(coerced, list):
        raise _refused(coerced, "validation_error")
    variables = coerced.coerced  # graphql-core 3.3 also returns where each value came from
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if found := limits.check(schema._schema, operation, fragments, variables):
        raise _refused(found, "validation_error")
    return Prepared(request, operation, variables)


def result_body(result, request_id: str | None) -> dict:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [errors.from_execution_error(error, request_id) for error in result.errors]
    return body


async def execute(schema: Schema, prepared: Prepared, context: Context) -> dict:
    """Run a query or mutation; the answer's body (``data`` and, if any, ``errors``)."""
    request = prepared.request
    result = await schema.execute(request.query, request.variables, context, operation_name=request.operation_name)
    return result_body(result, context.request_id)
