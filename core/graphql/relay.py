"""Relay connections over the REST keyset pages: the same opaque cursors, the same page sizes.

A resolver turns ``first``/``after`` into the ``PageRequest`` the services already take, and
the services' ``(rows, next_cursor)`` into a connection. Each edge's cursor is the REST cursor
positioned at that row, so ``after: <any edge's cursor>`` continues right after it, and a REST
``next_cursor`` works as ``after`` (and the other way round).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry
from strawberry.types.base import get_object_definition

from ..errors import ValidationError
from ..pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest, decode_cursor, encode_cursor

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def page_request(first: int | None, after: str | None) -> PageRequest:
    """``first`` (default 50, 1 to 500) and ``after`` as a keyset page (``validation_error``)."""
    limit = DEFAULT_LIMIT if first is None else first
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationError.single("first", f"must be between 1 and {MAX_LIMIT}")
    if after:
        position, ascending = decode_cursor(after)
        return PageRequest(limit, position, ascending)
    return PageRequest(limit)


def connection(
    rows: list[dict], next_cursor: str | None, page: PageRequest, key: str, node: Callable[[dict], T]
) -> Connection[T]:
    """A connection of ``rows`` (REST objects) keyed by their ``key`` field."""
    edges = [Edge(cursor=encode_cursor(row[key], page.ascending), node=node(row)) for row in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=next_cursor is not None, end_cursor=edges[-1].cursor if edges else None),
    )


def from_row(cls: type[T], row: dict, **extra) -> T:
    """A strawberry type built from a REST object: its snake_case keys are the type's fields
    (strawberry names them in camelCase), keys the type does not declare are left out."""
    names = {f.name for f in get_object_definition(cls, strict=True).fields if not f.base_resolver}
    return cls(**{name: row[name] for name in names if name in row}, **extra)
