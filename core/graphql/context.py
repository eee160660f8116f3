"""What the resolvers of one request (or one websocket operation) share.

The ``Store`` runs their peewee work off the IOLoop; ``loader(name, fn)`` gives the request's
own ``DataLoader`` for a batch function (loaders cache, so they never outlive a request);
``settings`` is the application's, for the services' shared objects; ``drop_client`` ends the
websocket of a subscriber that fell behind (``None`` over HTTP). A subscription's context lives
as long as the subscription, so its loaders batch but do not cache (``cache=False``): each
event is resolved against the database as it is then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from ..db import Store


@dataclass
class Context:
    store: Store
    settings: dict
    request_id: str | None = None
    drop_client: Callable[[], None] | None = None
    cache: bool = True
    _loaders: dict[str, DataLoader] = field(default_factory=dict)

    def loader(self, name: str, load: Callable[[list], Awaitable[list]]) -> DataLoader:
        if name not in self._loaders:
            self._loaders[name] = DataLoader(load_fn=load, cache=self.cache)
        return self._loaders[name]

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A read-only unit of work on the executor (no transaction needed for one query)."""
        return await self.store.run(fn, *args, transaction=False)
