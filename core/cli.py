"""What every service's ``python -m <service>`` shares: settings, logging and migration commands."""

from __future__ import annotations

import sys
from typing import Callable, TypeVar

from .config import ConfigError
from .db import Store
from .logging import configure_logging
from .migrations import migrate, rollback

S = TypeVar("S")


def load_settings(settings_cls: type[S], service: str) -> S:
    """The service's settings from the environment, logging configured; exit 2 on a bad value."""
    try:
        settings = settings_cls.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(service, getattr(settings, "log_level", "INFO"))
    return settings


def run_migrations(command: str, service: str, open_store: Callable[[], Store]) -> int:
    """``migrate`` applies every pending migration; ``rollback`` undoes the latest one."""
    store = open_store()
    try:
        if command == "migrate":
            applied = migrate(store.database, service)
            print(f"{service}: applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
        else:
            rollback(store.database, service)
            print(f"{service}: rolled back the latest migration")
    finally:
        store.close()
    return 0
