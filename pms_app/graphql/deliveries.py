"""GraphQL endpoints, deliveries and their attempts, over ``services.endpoints`` and
``services.deliveries``.

A delivery is one event on its way to one endpoint (``endpointId``, default 1, the CRM), as in
REST. A delivery's attempts are batch-loaded: one query for every delivery of the answer.
"""

from __future__ import annotations

import strawberry
import strawberry.scalars

from core.contract import EVENT_TYPES
from core.pagination import PageRequest
from core.graphql.arguments import choice
from core.graphql.context import Context
from core.graphql.relay import Connection, connection, from_row, page_request

from ..models import CRM_ENDPOINT_ID, DELIVERY_STATUSES
from ..services import deliveries as delivery_service
from ..services import endpoints as endpoint_service


@strawberry.type
class DeliveryAttempt:
    attempt: int
    started_at: str
    status_code: int | None
    duration_ms: int | None
    error: str | None
    response_body: str | None
    trigger: str
    replayed_by: str | None


def _attempts_loader(context: Context):
    async def load(delivery_ids: list[int]) -> list[list[dict]]:
        found = await context.run(delivery_service.attempts_of, delivery_ids)
        return [found[delivery_id] for delivery_id in delivery_ids]

    return context.loader("delivery.attempts", load)


@strawberry.type
class Delivery:
    id: str
    seq: int
    endpoint_id: int
    type: str
    status: str
    entity_id: int | None
    entity_version: int | None
    attempt_count: int
    next_attempt_at: str | None
    created_at: str
    delivered_at: str | None
    last_error: str | None
    last_status_code: int | None

    @strawberry.field(description="Every attempt at delivering this event to this endpoint, oldest first.")
    async def attempts(self, info: strawberry.Info) -> list[DeliveryAttempt]:
        rows = await _attempts_loader(info.context).load(self.seq)
        return [from_row(DeliveryAttempt, row) for row in rows]


async def deliveries(
    info: strawberry.Info,
    first: int | None = None,
    after: str | None = None,
    endpoint_id: int = CRM_ENDPOINT_ID,
    status: str | None = None,
    type: str | None = None,
) -> Connection[Delivery] | None:
    page = page_request(first, after)
    status = choice("status", status, DELIVERY_STATUSES)
    event_type = choice("type", type, EVENT_TYPES)
    rows, cursor = await info.context.run(delivery_service.list_deliveries, page, status, event_type, endpoint_id)
    return connection(rows, cursor, page, "seq", lambda row: from_row(Delivery, row))


@strawberry.type
class EndpointBreaker:
    failure_threshold: int
    recovery_seconds: int


@strawberry.type
class EndpointSecret:
    id: int
    prefix: str
    created_at: str
    expires_at: str | None


@strawberry.type
class Endpoint:
    id: int
    name: str
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: str | None
    retry_schedule: strawberry.scalars.JSON | None
    timeout_seconds: float
    rate_limit_per_second: float | None
    max_in_flight: int
    breaker: EndpointBreaker
    secrets: list[EndpointSecret]
    created_at: str
    updated_at: str


def _endpoint(row: dict) -> Endpoint:
    plain = {k: v for k, v in row.items() if k not in ("breaker", "secrets")}
    return from_row(
        Endpoint,
        plain,
        breaker=EndpointBreaker(**row["breaker"]),
        secrets=[from_row(EndpointSecret, s) for s in row["secrets"]],
    )


async def endpoints(info: strawberry.Info) -> list[Endpoint]:
    """Every endpoint in id order (a hotel has a handful: no paging)."""
    config = info.context.settings["config"]
    rows, _ = await info.context.run(endpoint_service.list_endpoints, config, PageRequest(500, 0, True))
    return [_endpoint(row) for row in rows]
