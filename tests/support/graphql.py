"""Helpers for GraphQL tests: one request, REST objects in GraphQL's camelCase, counting queries,
and walking a connection page by page."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import Any

from tests.support.http import call, json_of

GRAPHQL = "/api/v1/graphql"


async def gql(
    client, base_url: str, query: str, variables: dict | None = None, headers: dict | None = None
) -> tuple[int, dict]:
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = await call(client, base_url, "POST", GRAPHQL, body, headers=headers)
    return response.code, json_of(response)


def camel(value: Any) -> Any:
    """A REST value with its keys renamed as GraphQL names them (``date_of_birth`` -> ``dateOfBirth``);
    the values of JSON-typed fields (payloads, money maps) keep their keys."""
    if isinstance(value, list):
        return [camel(v) for v in value]
    if isinstance(value, dict):
        return {
            re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), k): (
                v if k in ("payload", "lifetime_value") else camel(v)
            )
            for k, v in value.items()
        }
    return value


def nodes(connection: dict) -> list[dict]:
    return [edge["node"] for edge in connection["edges"]]


@contextmanager
def counting_queries(database):
    """Count the SQL statements ``database`` executes (every thread) inside the block."""
    counted = {"n": 0}
    lock = threading.Lock()
    original = database.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        with lock:
            counted["n"] += 1
        return original(sql, params, *args, **kwargs)

    database.execute_sql = execute_sql
    try:
        yield counted
    finally:
        del database.execute_sql
