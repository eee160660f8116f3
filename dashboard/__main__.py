"""``python -m dashboard [serve]`` serves the dashboard until SIGTERM/SIGINT;
``python -m dashboard users add|remove|list`` manages its operators (see ``users_cli``)."""

from __future__ import annotations

import asyncio
import logging
import sys

from core.cli import load_settings
from core.server import serve

from . import users_cli
from .app import close_app, make_app
from .config import DashboardSettings

log = logging.getLogger("guestsync.dashboard")

USAGE = "usage: python -m dashboard [serve | users {add,remove,list} ...]"
HELP = (
    USAGE
    + """

  serve (the default)  serve the dashboard until SIGTERM/SIGINT; settings come from the
                       environment and dashboard/.env (see dashboard/.env.example and docs/configuration.md)
  users ...            manage the named operators (python -m dashboard users --help)
"""
)


async def run(settings: DashboardSettings) -> None:
    app = make_app(settings)

    async def on_stop() -> None:
        for handler in list(app.settings["hub"].clients):
            handler.shutdown(1001, "the dashboard is stopping")
        close_app(app)

    log.info("dashboard on port %s, PMS %s, CRM %s", settings.port, settings.pms_url, settings.crm_url)
    await serve(app, settings.port, "dashboard", on_stop=on_stop)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "serve"
    # ``serve --help`` too: a help flag must never be taken for a reason to start serving.
    if command in ("-h", "--help") or (command == "serve" and any(a in ("-h", "--help") for a in argv[1:])):
        print(HELP)
        return 0
    if command not in ("serve", "users") or (command == "serve" and len(argv) > 1):
        print(USAGE, file=sys.stderr)
        return 2
    settings = load_settings(DashboardSettings, "dashboard")
    if command == "users":
        return users_cli.main(argv[1:], settings.users_file)
    if settings.token_generated:
        # Printed once to the console for the operator who started it; never logged.
        print(f"dashboard login token: {settings.token}", flush=True)
    print(f"dashboard: http://localhost:{settings.port}/", flush=True)
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
