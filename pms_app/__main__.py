"""``python -m pms_app [serve|worker|migrate|rollback] [--no-worker] [--migrate]``, and the ops
commands ``status``, ``deliveries``, ``endpoints``, ``reconcile`` (``pms_app.cli``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.cli import load_settings, prepare_database, run_migrations, start_tracing
from core.config import redact_url
from core.db import Store
from core.metrics import Metrics
from core.server import listen, serve, wait_for_signal

from . import cli as ops
from .app import make_app, make_store
from .config import PmsSettings
from .delivery.worker import DeliveryWorker
from .worker_http import make_worker_app

log = logging.getLogger("guestsync.pms")


async def run_api(settings: PmsSettings, store: Store, with_worker: bool) -> None:
    metrics = Metrics("pms")
    worker = DeliveryWorker(settings, store, metrics).start() if with_worker else None
    app = make_app(settings, store, metrics, wake_delivery=worker.wake if worker else None)

    async def on_stop() -> None:
        if worker is not None:
            await asyncio.get_running_loop().run_in_executor(None, worker.stop)
        store.close()

    log.info("PMS API on port %s, database %s", settings.port, redact_url(settings.database_url))
    await serve(app, settings.port, "pms", on_stop=on_stop)


async def run_worker(settings: PmsSettings, store: Store) -> int:
    """A standalone delivery worker until SIGTERM/SIGINT, then a graceful stop; its metrics,
    health and readiness on ``WORKER_METRICS_PORT`` unless that is 0."""
    metrics = Metrics("pms-worker")
    server = None
    if settings.worker_metrics_port:
        try:
            server = listen(make_worker_app(settings, store, metrics), settings.worker_metrics_port)
        except OSError as exc:
            print(
                f"pms worker: cannot listen on WORKER_METRICS_PORT {settings.worker_metrics_port}: {exc}"
                " (give each worker on a host its own port, or 0 for none)",
                file=sys.stderr,
            )
            store.close()
            return 1
    worker = DeliveryWorker(settings, store, metrics).start()
    log.info(
        "PMS delivery worker %s, database %s, metrics port %s",
        worker.worker_id,
        redact_url(settings.database_url),
        settings.worker_metrics_port or "off",
    )
    await wait_for_signal()
    if server is not None:
        server.stop()
    await asyncio.get_running_loop().run_in_executor(None, worker.stop)
    if server is not None:
        await server.close_all_connections()
    store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pms_app",
        description="Guestsync PMS service",
        epilog="Ops commands, each with its own --help: status (the webhook "
        "status of every endpoint), deliveries list|replay, endpoints "
        "list|add|disable|enable|rotate-secret, reconcile.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=("serve", "worker", "migrate", "rollback", *ops.COMMANDS),
        help="serve (default): the API and a delivery worker; worker: a standalone "
        "delivery worker; migrate, rollback: the database schema",
    )
    parser.add_argument("--no-worker", action="store_true", help="serve the API without the in-process delivery worker")
    parser.add_argument(
        "--migrate",
        action="store_true",
        help="serve/worker: apply pending migrations first (without it, a database "
        "with pending migrations stops the start)",
    )
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in ops.COMMANDS:
        return ops.main(argv)
    args = parser.parse_args(argv)
    settings = load_settings(PmsSettings, "pms")
    if args.command in ("migrate", "rollback"):
        return run_migrations(args.command, "pms", lambda: make_store(settings))
    tracing = start_tracing("pms-worker" if args.command == "worker" else "pms", settings)
    try:
        store = make_store(settings)
        prepare_database("pms", store, args.migrate, "pms_app worker" if args.command == "worker" else "pms_app")
        if args.command == "worker":
            return asyncio.run(run_worker(settings, store))
        asyncio.run(run_api(settings, store, with_worker=not args.no_worker))
        return 0
    finally:
        if tracing is not None:
            tracing.stop()  # exports the spans still buffered


if __name__ == "__main__":
    sys.exit(main())
