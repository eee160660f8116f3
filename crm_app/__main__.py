"""``python -m crm_app [serve|migrate|rollback] [--migrate]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.cli import load_settings, prepare_database, run_migrations, start_tracing
from core.config import redact_url
from core.db import Store
from core.server import serve

from .app import make_app, make_store
from .config import CrmSettings

log = logging.getLogger("guestsync.crm")


async def run_api(settings: CrmSettings, store: Store) -> None:
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
    parser.add_argument(
        "--migrate",
        action="store_true",
        help="serve: apply pending migrations first (without it, a database with pending migrations stops the start)",
    )
    args = parser.parse_args(argv)
    settings = load_settings(CrmSettings, "crm")
    if args.command in ("migrate", "rollback"):
        return run_migrations(args.command, "crm", lambda: make_store(settings))
    tracing = start_tracing("crm", settings)
    try:
        store = make_store(settings)
        prepare_database("crm", store, args.migrate, "crm_app")
        asyncio.run(run_api(settings, store))
        return 0
    finally:
        if tracing is not None:
            tracing.stop()  # exports the spans still buffered


if __name__ == "__main__":
    sys.exit(main())
