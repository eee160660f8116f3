"""``/ws/live``: the authenticated websocket that relays the hub's messages to one browser."""

from __future__ import annotations

from urllib.parse import urlsplit

from tornado.web import HTTPError
from tornado.websocket import WebSocketHandler

from ..live import ClientQueue, Hub
from ..session import current_user


class LiveSocketHandler(WebSocketHandler):
    def get_current_user(self) -> str | None:
        return current_user(self)

    async def get(self, *args, **kwargs) -> None:
        if not self.current_user:
            raise HTTPError(401, "login required")
        await super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        """Only pages served by this dashboard (same host and port) may open the feed."""
        return urlsplit(origin).netloc.lower() == self.request.headers.get("Host", "").lower()

    @property
    def hub(self) -> Hub:
        return self.settings["hub"]

    def open(self) -> None:
        self.queue = ClientQueue(self.write_message, self.close, self.settings["config"].client_queue_size)
        self.hub.subscribe(self.queue)

    def on_message(self, message) -> None:
        """The feed is one-way; anything the browser sends is ignored."""

    def on_close(self) -> None:
        queue = getattr(self, "queue", None)
        if queue is not None:
            queue.shutdown()
            self.hub.unsubscribe(queue)


default_handlers = [(r"/ws/live", LiveSocketHandler)]
