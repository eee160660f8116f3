"""``/ws/live``: the authenticated websocket that relays the hub's messages to one browser.

The handshake needs a valid session; the socket then watches that session and is closed with
``CLOSE_SIGNED_OUT`` the moment it ends (sign-out, operator removed, password changed, expiry),
after which the page reloads and lands on the login page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tornado.web import HTTPError
from tornado.websocket import WebSocketHandler

from ..headers import set_protective_headers
from ..live import ClientQueue, Hub
from .base import SessionAware

CLOSE_SIGNED_OUT = 4401


class LiveSocketHandler(SessionAware, WebSocketHandler):
    queue: ClientQueue | None = None
    watched: str | None = None

    def set_default_headers(self) -> None:
        set_protective_headers(self)

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
        self.watched = self.session.id
        self.sessions.watch(self.watched, self.signed_out)

    def signed_out(self) -> None:
        self.watched = None
        if self.queue is not None:
            self.queue.shutdown(CLOSE_SIGNED_OUT, "signed out")

    def on_message(self, message) -> None:
        """The feed is one-way; anything the browser sends is ignored (but the session is checked)."""
        if self.watched and self.sessions.get(self.watched, touch=False) is None:
            self.signed_out()

    def on_close(self) -> None:
        if self.watched is not None:
            self.sessions.unwatch(self.watched, self.signed_out)
            self.watched = None
        if self.queue is not None:
            self.queue.shutdown()
            self.hub.unsubscribe(self.queue)


default_handlers = [(r"/ws/live", LiveSocketHandler)]
