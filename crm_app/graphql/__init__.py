"""The CRM's GraphQL API: ``POST {base}/graphql`` (read only) and live subscriptions over
``graphql-transport-ws`` at ``{base}/graphql/ws``; see docs/graphql.md."""

from __future__ import annotations

from core.graphql.handler import GraphQLHandler
from core.graphql.ws import GraphQLWebSocketHandler

from .schema import schema

default_handlers = [
    (r"/graphql", GraphQLHandler, {"schema": schema}),
    (r"/graphql/ws", GraphQLWebSocketHandler, {"schema": schema}),
]
