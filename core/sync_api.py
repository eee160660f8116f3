"""``GET /sync/digest`` and ``GET /sync/manifest``: the same two thin handlers in both services.

Each service puts its ``SyncSource`` in ``Application.settings["sync_source"]`` and adds
``default_handlers`` to its routes; parameters, recipe and paging live in ``core.sync``.
Both routes are behind ``API_TOKEN`` like every other API route.
"""

from __future__ import annotations

from .handlers import APIHandler
from .sync import SyncSource, digest_of, manifest_of, parse_digest_request, parse_manifest_request


class SyncHandler(APIHandler):
    @property
    def sync_source(self) -> SyncSource:
        return self.settings["sync_source"]

    def argument(self, name: str) -> str | None:
        return self.get_argument(name, None)


class DigestHandler(SyncHandler):
    route_name = "sync_digest"

    async def get(self) -> None:
        req = parse_digest_request(self.argument)
        buckets = await self.store.run(
            digest_of, self.sync_source, req.kind, req.from_id, req.to_id, req.buckets, transaction=False
        )
        self.write_data(buckets)


class ManifestHandler(SyncHandler):
    route_name = "sync_manifest"

    async def get(self) -> None:
        req = parse_manifest_request(self.argument)
        rows, cursor = await self.store.run(
            manifest_of, self.sync_source, req.kind, req.after, req.limit, transaction=False
        )
        self.write_list(rows, cursor)


default_handlers = [
    (r"/sync/digest", DigestHandler),
    (r"/sync/manifest", ManifestHandler),
]
