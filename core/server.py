"""Process lifecycle shared by the services: listen, wait for SIGTERM/SIGINT, stop cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from tornado.httpserver import HTTPServer
from tornado.web import Application

log = logging.getLogger("guestsync.server")


async def wait_for_signal() -> None:
    """Return once SIGTERM or SIGINT arrives."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)


def make_http_server(app: Application, max_body_size: int = 2 * 1024 * 1024) -> HTTPServer:
    """An HTTP server for ``app`` with a server-wide body cap far below Tornado's 100 MiB default.

    ``xheaders`` stays off: Tornado would believe ``X-Forwarded-For`` from anyone. The
    application resolves the client behind trusted proxies itself (``core.proxies``).
    """
    return HTTPServer(app, xheaders=False, max_body_size=max_body_size)


def listen(app: Application, port: int, address: str = "", max_body_size: int = 2 * 1024 * 1024) -> HTTPServer:
    """``make_http_server`` listening on ``port``."""
    server = make_http_server(app, max_body_size)
    server.listen(port, address)
    return server


async def drain(app: Application, timeout: float = 10.0) -> None:
    """Wait (bounded) for the requests in flight to finish after the server stopped accepting."""
    in_flight = app.settings.get("in_flight")
    if in_flight is None:
        return
    deadline = asyncio.get_running_loop().time() + timeout
    while in_flight.count > 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    if in_flight.count > 0:
        log.warning("%d request(s) still in flight after %.0fs; stopping anyway", in_flight.count, timeout)


async def serve(
    app: Application, port: int, name: str, on_stop: Callable[[], Awaitable[None]] | None = None, address: str = ""
) -> None:
    """Serve until a stop signal, then stop accepting, let requests in flight finish, run ``on_stop``.

    A port another process holds (a second copy of the service, or ``make run`` beside commands
    started by hand) stops the start with one line naming the port, after ``on_stop`` released
    what was already started, and exit status 1.
    """
    try:
        server = listen(app, port, address)
    except OSError as exc:
        print(
            f"{name}: cannot listen on port {port} (APP_PORT): {exc.strerror or exc}. Another process holds "
            "it (another copy of this service, or `make run`): stop it, or give this one another APP_PORT.",
            file=sys.stderr,
            flush=True,
        )
        if on_stop is not None:
            await on_stop()
        raise SystemExit(1) from None
    log.info("%s listening on port %s", name, port, extra={"port": port})
    await wait_for_signal()
    log.info("%s stopping", name)
    server.stop()
    await drain(app)
    if on_stop is not None:
        await on_stop()
    try:
        await asyncio.wait_for(server.close_all_connections(), timeout=5)
    except TimeoutError:
        log.warning("%s: connections still open after 5s; closing anyway", name)
    log.info("%s stopped", name)
