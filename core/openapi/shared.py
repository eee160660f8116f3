"""The routes both API services serve the same way, described once: health, readiness,
``/metrics``, this document, the reconciliation feeds (digest, manifest) and GraphQL."""

from __future__ import annotations

from typing import Any

from core.contract import MAX_ID
from core.graphql.execution import MAX_QUERY_CHARS
from core.sync import KINDS, MANIFEST_DEFAULT_LIMIT, MANIFEST_MAX_LIMIT, MAX_BUCKETS

from .spec import (
    COUNT,
    ERROR_DESCRIPTIONS,
    Spec,
    answer,
    array,
    data,
    enum,
    integer,
    nullable,
    obj,
    page,
    query,
    string,
)

PROBES = "probes"
SYNC = "reconciliation"
GRAPHQL = "graphql"
META = "meta"


def add_probes(spec: Spec, service: str) -> None:
    """``{base}/health``, ``{base}/ready`` (GET and HEAD), ``/metrics`` and ``{base}/openapi.json``."""
    spec.tag(PROBES, "Liveness, readiness and Prometheus metrics; never behind the token or the rate limit.")
    spec.tag(META, "This description.")
    health = spec.schema(
        "Health",
        obj(
            {
                "status": enum(["ok", "unavailable"]),
                "service": string(const=service),
                "database": enum(["ok", "unavailable"]),
            }
        ),
    )
    ready = spec.schema(
        "Readiness",
        obj(
            {
                "status": enum(["ready", "not_ready"]),
                "service": string(const=service),
                "database": enum(["ok", "unavailable"]),
                "pending_migrations": array(string(), description="migrations not applied yet"),
                "message": string(),
            }
        ),
    )
    probe: dict[str, Any] = dict(tag=PROBES, auth=False, rate_limited=False, database=False)
    for method in ("get", "head"):
        body = (lambda schema: schema) if method == "get" else (lambda schema: None)
        suffix = "" if method == "get" else " (headers only)"
        spec.operation(
            method,
            "/health",
            operation_id=f"{method}Health",
            summary="Health" + suffix,
            description="The process runs and its database answers. The body is bare (not under data).",
            responses={200: answer("healthy", body(health)), 503: answer("the database is unavailable", body(health))},
            **probe,
        )
        spec.operation(
            method,
            "/ready",
            operation_id=f"{method}Ready",
            summary="Readiness" + suffix,
            description="Healthy and every migration of the service applied; a 503 names what is missing.",
            responses={
                200: answer("ready for traffic", body(ready)),
                503: answer("not ready: the database or migrations", body(ready)),
            },
            **probe,
        )
    spec.operation(
        "get",
        "/metrics",
        operation_id="getMetrics",
        summary="Prometheus metrics",
        description="Outside the base path; the Prometheus text exposition format.",
        responses={200: answer("the metrics", string(), media="text/plain")},
        base=False,
        **probe,
    )
    spec.operation(
        "get",
        "/openapi.json",
        operation_id="getOpenApi",
        summary="This OpenAPI document",
        tag=META,
        auth=False,
        rate_limited=False,
        database=False,
        responses={
            200: answer(
                "the OpenAPI 3.1 description of this service",
                obj({"openapi": string(), "info": {"type": "object"}, "paths": {"type": "object"}}),
            )
        },
    )


def add_sync(spec: Spec) -> None:
    """``GET {base}/sync/digest`` and ``GET {base}/sync/manifest``."""
    spec.tag(SYNC, "Digests and manifests of entity versions, read by reconciliation.")
    kind = query("kind", enum(KINDS), "the entity kind", required=True)
    bucket = spec.schema(
        "DigestBucket",
        obj(
            {
                "from_id": integer(minimum=0),
                "to_id": integer(minimum=0),
                "count": COUNT,
                "hash": string(
                    pattern="^[0-9a-f]{64}$",
                    description='lower-case hex SHA-256 of the bucket\'s "id:version:deleted\\n" lines',
                ),
            }
        ),
    )
    entry = spec.schema(
        "ManifestEntry", obj({"id": integer(minimum=0), "version": integer(), "deleted": {"type": "boolean"}})
    )
    spec.operation(
        "get",
        "/sync/digest",
        operation_id="getSyncDigest",
        tag=SYNC,
        summary="Hashed buckets of (id, version, deleted) over an id range",
        params=[
            kind,
            query("from_id", integer(minimum=0, default=1), "first id of the range"),
            query("to_id", integer(minimum=0, default=MAX_ID), "last id of the range (not less than from_id)"),
            query("buckets", integer(minimum=1, default=1), f"how many buckets; capped at {MAX_BUCKETS}"),
        ],
        responses={200: answer("every bucket, empty ones included", data(array(bucket)))},
    )
    spec.operation(
        "get",
        "/sync/manifest",
        operation_id="getSyncManifest",
        tag=SYNC,
        summary="Entity versions in id order, one page",
        params=[
            kind,
            query("after", integer(minimum=0, default=0), "only ids above this"),
            query("cursor", integer(minimum=0), "synonym of after (the next_cursor of a page)"),
            query(
                "limit",
                integer(minimum=1, default=MANIFEST_DEFAULT_LIMIT),
                f"page size; capped at {MANIFEST_MAX_LIMIT}",
            ),
        ],
        responses={200: answer("one page", page(entry))},
    )


def add_graphql(spec: Spec) -> None:
    """``POST {base}/graphql``: every failure, the gates' included, in GraphQL's error shape."""
    spec.tag(GRAPHQL, "The read API in GraphQL; the schema's SDL is in docs/graphql.")
    graphql_error = spec.schema(
        "GraphQLError",
        obj(
            {
                "message": string(),
                "path": nullable(array({"type": ["string", "integer"]})),
                "extensions": obj({"code": string()}, required=["code"]),
                "locations": array(obj({"line": integer(), "column": integer()})),
            },
            required=["message", "path", "extensions"],
        ),
    )
    result = spec.schema(
        "GraphQLResult",
        obj({"data": nullable({"type": "object"}), "errors": array(graphql_error, minItems=1)}, required=["data"]),
    )
    refused = spec.schema("GraphQLRefusal", obj({"errors": array(graphql_error, minItems=1)}))
    request = obj(
        {
            "query": string(minLength=1, maxLength=MAX_QUERY_CHARS),
            "variables": nullable({"type": "object"}),
            "operationName": nullable(string()),
        },
        required=["query"],
    )
    gate_texts = {
        400: "the request cannot run: not a JSON object, a syntax error, an unknown field, over the depth or cost limit"
    }

    def gate(status: int) -> dict:
        return answer(gate_texts.get(status, ERROR_DESCRIPTIONS[status]), refused)

    spec.operation(
        "post",
        "/graphql",
        operation_id="postGraphql",
        tag=GRAPHQL,
        summary="Run a GraphQL query",
        description="Queries only (subscriptions are served over the websocket). A "
        "request that ran answers 200, with errors listing the fields that "
        "failed; one that could not run answers 4xx in the same error shape.",
        body=request,
        validates=False,
        errors=gate,
        responses={200: answer("the query ran", result), 400: gate(400)},
    )
