"""GraphQL deliveries (outbox events) and their attempts, over ``services.deliveries``.

Everything the GraphQL API knows about delivery is in this module, so that a change of the
delivery model (per-endpoint deliveries) changes one place. A delivery's attempts are
batch-loaded: one query for every delivery of the answer.
"""

from __future__ import annotations

import strawberry

from core.contract import EVENT_TYPES
from core.graphql.arguments import choice
from core.graphql.context import Context
from core.graphql.relay import Connection, connection, from_row, page_request

from ..models import OUTBOX_STATUSES
from ..services import deliveries as delivery_service


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
    async def load(event_ids: list[str]) -> list[list[dict]]:
        found = await context.run(delivery_service.attempts_of, event_ids)
        return [found[event_id] for event_id in event_ids]
    return context.loader("delivery.attempts", load)


@strawberry.type
class Delivery:
    id: str
    type: str
    status: str
    entity_id: int | None
    entity_version: int | None
    attempt_count: int
    next_attempt_at: str | None
    created_at: str
    delivered_at: str | None

    @strawberry.field(description="Every attempt at delivering this event, oldest first.")
    async def attempts(self, info: strawberry.Info) -> list[DeliveryAttempt]:
        rows = await _attempts_loader(info.context).load(self.id)
        return [from_row(DeliveryAttempt, row) for row in rows]


async def deliveries(info: strawberry.Info, first: int | None = None, after: str | None = None,
                     status: str | None = None, type: str | None = None) -> Connection[Delivery] | None:
    page = page_request(first, after)
    status = choice("status", status, OUTBOX_STATUSES)
    event_type = choice("type", type, EVENT_TYPES)
    rows, cursor = await info.context.run(delivery_service.list_deliveries, page, status, event_type)
    return connection(rows, cursor, page, "seq", lambda row: from_row(Delivery, row))
