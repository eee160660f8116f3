"""What a database error means: retry the transaction, answer 503, or a fault in the query.

The MySQL/MariaDB error codes and SQLite messages the services act on are listed here once.
"""

from __future__ import annotations

import peewee

# MySQL error codes that mean "run the whole transaction again".
MYSQL_DEADLOCK = 1213
MYSQL_LOCK_WAIT_TIMEOUT = 1205
MYSQL_DUPLICATE_KEY = 1062
RETRYABLE_CODES = {MYSQL_DEADLOCK, MYSQL_LOCK_WAIT_TIMEOUT}
# MySQL client/server codes that mean "the server cannot be reached or is going away".
UNAVAILABLE_CODES = {1040, 1053, 1927, 2002, 2003, 2005, 2006, 2013, 2014, 2055, 4031}
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")


class DatabaseUnavailable(Exception):
    """The database could not be reached or answered with a server-side failure (-> 503)."""


def mysql_error_code(exc: BaseException) -> int | None:
    """The numeric MySQL error code of a (peewee-wrapped) driver error, if any."""
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    orig = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    if orig is not None and orig is not exc:
        args = getattr(orig, "args", ())
        if args and isinstance(args[0], int):
            return args[0]
    return None


def is_unavailable(exc: BaseException) -> bool:
    """Whether a driver error means the database is unreachable or overloaded (-> 503), as
    opposed to a fault in the query itself (-> 500, logged)."""
    if isinstance(exc, peewee.InterfaceError):
        return True
    code = mysql_error_code(exc)
    if code is not None:
        return code in UNAVAILABLE_CODES
    return str(exc).lower().startswith(SQLITE_UNAVAILABLE)


def is_duplicate_key(exc: BaseException) -> bool:
    if mysql_error_code(exc) == MYSQL_DUPLICATE_KEY:
        return True
    return "UNIQUE constraint failed" in str(exc)
