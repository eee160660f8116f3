"""``python -m dashboard``: serve the dashboard until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import sys

from core.cli import load_settings
from core.server import serve

from .app import make_app
from .config import DashboardSettings

log = logging.getLogger("guestsync.dashboard")


async def run(settings: DashboardSettings) -> None:
    app = make_app(settings)

    async def on_stop() -> None:
        app.settings["hub"].stop()
        for handler in list(app.settings["hub"].clients):
            handler.shutdown(1001, "the dashboard is stopping")
        app.settings["services"].close()

    log.info("dashboard on port %s, PMS %s, CRM %s", settings.port, settings.pms_url, settings.crm_url)
    await serve(app, settings.port, "dashboard", on_stop=on_stop)


def main(argv: list[str] | None = None) -> int:
    settings = load_settings(DashboardSettings, "dashboard")
    if settings.token_generated:
        # Printed once to the console for the operator who started it; never logged.
        print(f"dashboard login token: {settings.token}", flush=True)
    print(f"dashboard: http://localhost:{settings.port}/", flush=True)
    asyncio.run(run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
