"""``python -m crm_app [serve|migrate|rollback]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.cli import load_settings, run_migrations
from core.config import redact_url
from core.server import serve

from .app import make_app, make_store
from .config import CrmSettings

log = logging.getLogger("guestsync.crm")


async def run_api(settings: CrmSettings) -> None:
    store = make_store(settings)
    app = make_app(settings, store)

    async def on_stop() -> None:
        # Answer the webhooks already accepted for writing before the database goes away.
        await app.settings["receiver"].wait_idle()
        await app.settings["rejection_log"].wait_idle()
        store.close()

    log.info("CRM API on port %s, database %s", settings.port, redact_url(settings.database_url))
    await serve(app, settings.port, "crm", on_stop=on_stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crm_app", description="Guestsync CRM service")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "migrate", "rollback"))
    args = parser.parse_args(argv)
    settings = load_settings(CrmSettings, "crm")
    if args.command in ("migrate", "rollback"):
        return run_migrations(args.command, "crm", lambda: make_store(settings))
    asyncio.run(run_api(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
