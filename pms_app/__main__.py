"""``python -m pms_app [serve|worker|migrate|rollback|reconcile] [--no-worker]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.cli import load_settings, run_migrations
from core.config import redact_url
from core.metrics import Metrics
from core.server import serve, wait_for_signal

from .app import make_app, make_store
from .config import PmsSettings
from .delivery.worker import DeliveryWorker
from .sync import cli as reconcile_cli

log = logging.getLogger("guestsync.pms")


async def run_api(settings: PmsSettings, with_worker: bool) -> None:
    store = make_store(settings)
    metrics = Metrics("pms")
    worker = DeliveryWorker(settings, store, metrics).start() if with_worker else None
    app = make_app(settings, store, metrics, wake_delivery=worker.wake if worker else None)

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


def reconcile(args) -> int:
    """``python -m pms_app reconcile``: one reconciliation now, on the database directly."""
    settings = load_settings(PmsSettings, "pms")
    store = make_store(settings)
    try:
        return reconcile_cli.run_command(settings, store, args)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pms_app", description="Guestsync PMS service")
    parser.add_argument("command", nargs="?", default="serve",
                        choices=("serve", "worker", "migrate", "rollback", "reconcile"),
                        help="reconcile: compare with the CRM and repair drift (see its --help)")
    parser.add_argument("--no-worker", action="store_true",
                        help="serve the API without the in-process delivery worker")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["reconcile"]:
        return reconcile(reconcile_cli.parse_args(argv[1:]))
    args = parser.parse_args(argv)
    settings = load_settings(PmsSettings, "pms")
    if args.command in ("migrate", "rollback"):
        return run_migrations(args.command, "pms", lambda: make_store(settings))
    if args.command == "worker":
        asyncio.run(run_worker(settings))
        return 0
    asyncio.run(run_api(settings, with_worker=not args.no_worker))
    return 0


if __name__ == "__main__":
    sys.exit(main())
