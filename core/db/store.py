"""The one way to run a unit of work: on an executor thread, inside a connection and a
transaction, retried on deadlock, ``DatabaseUnavailable`` when the database cannot be reached."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import peewee

from .dialect import is_mysql
from .errors import RETRYABLE_CODES, DatabaseUnavailable, is_unavailable, mysql_error_code

log = logging.getLogger("guestsync.db")
T = TypeVar("T")


class Store:
    """Runs units of work against one database, off the IOLoop thread.

    ``await store.run(fn, *args)`` calls ``fn(*args)`` on an executor thread inside
    ``connection_context()`` and ``atomic()``: the function's queries commit together or not at
    all. Deadlocks and lock-wait timeouts retry the whole unit; an unreachable database raises
    ``DatabaseUnavailable``. Threads that are not the IOLoop's (delivery workers) call
    ``store.call(fn, *args)`` for the same guarantees.
    """

    def __init__(self, database: peewee.Database, max_workers: int = 8, name: str = "db", retries: int = 4):
        self.database = database
        self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=f"{name}-db")
        self.retries = retries

    @property
    def is_mysql(self) -> bool:
        return is_mysql(self.database)

    def call(self, fn: Callable[..., T], *args: Any, transaction: bool = True) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.database.connection_context():
                    if not transaction:
                        return fn(*args)
                    with self.database.atomic():
                        return fn(*args)
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                code = mysql_error_code(exc)
                if code in RETRYABLE_CODES and attempt < self.retries:
                    time.sleep(0.005 * attempt)
                    continue
                if not is_unavailable(exc):
                    raise  # a deadlock that kept recurring, or a fault in the query: a 500
                log.warning("database unavailable: %s", exc)
                raise DatabaseUnavailable(str(exc)) from exc

    async def run(self, fn: Callable[..., T], *args: Any, transaction: bool = True) -> T:
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        return await loop.run_in_executor(self.executor, lambda: ctx.run(self.call, fn, *args, transaction=transaction))

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        close_all = getattr(self.database, "close_all", None)
        if close_all:
            close_all()
        elif not self.database.is_closed():
            self.database.close()
