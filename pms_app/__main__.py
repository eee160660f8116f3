"""``python -m pms_app [serve|worker|migrate|rollback] [--no-worker]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.config import ConfigError, redact_url
from core.logging import configure_logging
from core.migrations import migrate, rollback
from core.metrics import Metrics
from core.server import serve, wait_for_signal

from .app import make_app, make_store
from .config import PmsSettings
from .delivery.worker import DeliveryWorker

log = logging.getLogger("guestsync.pms")


async def run_api(settings: PmsSettings, with_worker: bool) -> None:
    store = make_store(settings)
    metrics = Metrics("pms")
    app = make_app(settings, store, metrics)
    worker = DeliveryWorker(settings, store, metrics).start() if with_worker else None

    async def on_stop() -> None:
        if worker is not None:
            await asyncio.get_running_loop().run_in_executor(None, worker.stop)
        store.close()

    log.info("PMS API on port %s, database %s", settings.port, redact_url(settings.database_url))
    await serve(app, settings.port, "pms", on_stop=on_stop)


async def run_worker(settings: PmsSettings) -> None:
    """A standalone delivery worker until SIGTERM/SIGINT, then a graceful stop."""
    store = make_store(settings)
    worker = DeliveryWorker(settings, store).start()
    log.info("PMS delivery worker %s, database %s", worker.worker_id, redact_url(settings.database_url))
    await wait_for_signal()
    await asyncio.get_running_loop().run_in_executor(None, worker.stop)
    store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pms_app", description="Guestsync PMS service")
    parser.add_argument("command", nargs="?", default="serve",
                        choices=("serve", "worker", "migrate", "rollback"))
    parser.add_argument("--no-worker", action="store_true",
                        help="serve the API without the in-process delivery worker")
    args = parser.parse_args(argv)
    try:
        settings = PmsSettings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging("pms", settings.log_level)
    if args.command in ("migrate", "rollback"):
        store = make_store(settings)
        if args.command == "migrate":
            applied = migrate(store.database, "pms")
            print(f"pms: applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
        else:
            rollback(store.database, "pms")
            print("pms: rolled back the latest migration")
        store.close()
        return 0
    if args.command == "worker":
        asyncio.run(run_worker(settings))
        return 0
    asyncio.run(run_api(settings, with_worker=not args.no_worker))
    return 0


if __name__ == "__main__":
    sys.exit(main())
