"""The PMS's GraphQL API (read only): ``POST {base}/graphql``; see docs/graphql.md."""

from __future__ import annotations

from core.graphql.handler import GraphQLHandler

from .schema import schema

default_handlers = [(r"/graphql", GraphQLHandler, {"schema": schema})]
