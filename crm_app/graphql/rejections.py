"""GraphQL rejections (refused webhook requests): ``rejections(...)`` over ``services.rejections``."""

from __future__ import annotations

import strawberry

from core.graphql.relay import Connection, connection, from_row, page_request

from ..services import rejections as rejection_service


@strawberry.type
class Rejection:
    id: int
    reason: str
    remote_ip: str | None
    received_at: str
    webhook_id: str | None


async def rejections(
    info: strawberry.Info, first: int | None = None, after: str | None = None, reason: str | None = None
) -> Connection[Rejection] | None:
    page = page_request(first, after)
    rows, cursor = await info.context.run(rejection_service.list_rejections, page, reason or None)
    return connection(rows, cursor, page, "id", lambda row: from_row(Rejection, row))
