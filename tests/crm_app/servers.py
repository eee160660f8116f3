"""Starting an extra CRM app (other settings, same test database) on a free port inside a test."""

from __future__ import annotations

import contextlib

from tornado.testing import bind_unused_port

from core.server import make_http_server
from crm_app.app import make_app


@contextlib.asynccontextmanager
async def running_app(settings, store, **app_settings):
    """Yields the base URL of a CRM app with ``settings`` over ``store``."""
    app = make_app(settings, store=store)
    app.settings.update(app_settings)
    sock, port = bind_unused_port()
    server = make_http_server(app)
    server.add_sockets([sock])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        await server.close_all_connections()
