"""``POST {base}/graphql``: the thin Tornado handler over ``execution``.

It inherits the API's gates (``API_TOKEN``, rate limit, body size, JSON only) and answers
every failure, those gates' included, in the GraphQL error shape: a request that cannot run
is a 400 (401, 413, 415, 429 for the gates), one that ran is a 200 whose ``errors`` list what
failed. Subscriptions are served by the websocket (``ws``), not here.
"""

from __future__ import annotations

from typing import Any


from ..handlers import APIHandler
from . import errors
from .context import Context
from .execution import Refused, Schema, execute, prepare, read_request


class GraphQLHandler(APIHandler):
    route_name = "graphql"

    def initialize(self, schema: Schema) -> None:
        self.schema = schema

    async def post(self) -> None:
        try:
            prepared = prepare(self.schema, read_request(self.json_body()))
            if prepared.is_subscription:
                raise Refused(
                    [
                        errors.entry(
                            "subscriptions are served over the websocket (graphql-transport-ws) at graphql/ws",
                            "bad_request",
                        )
                    ]
                )
        except Refused as refused:
            self.write_errors(refused.errors, refused.status)
            return
        context = Context(store=self.store, settings=self.settings, request_id=self.request_id)
        self.write_json(await execute(self.schema, prepared, context))

    def write_errors(self, entries: list[dict], status: int) -> None:
        for entry in entries:
            entry["extensions"].setdefault("request_id", self.request_id)
        self.write_json({"errors": entries}, status)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """The API's own errors (token, rate limit, size, media type, ...), in GraphQL's shape."""
        error = self.failure(status_code, kwargs.get("exc_info"))
        for name, value in error.headers.items():
            self.set_header(name, value)
        self.write_errors([errors.from_api_error(error)], error.status)
