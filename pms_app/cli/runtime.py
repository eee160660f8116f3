"""What every ops command shares: the settings and the database, who is acting, and the exit status.

A command opens the PMS database named by the configuration (no server needed), refuses to run
on one that is unreachable or not migrated, and calls the same services the API's handlers
call, each as one unit of work. Exit statuses:

* 0: done;
* 1: the command failed: an unknown id ("... not found"), a conflict, a reconciliation that did
  not complete;
* 2: bad arguments: argparse's own checks, and values the API would refuse with 422;
* 3: the database is unreachable, or lacks migrations.

Every failure is one line on stderr, ``<command>: error: <why>``, never a traceback
(``LOG_LEVEL=DEBUG`` logs the traceback of a database error too).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar
from collections.abc import Callable

import peewee

from core.cli import EXIT_DATABASE, load_settings
from core.contract import MAX_ID
from core.db import DatabaseUnavailable, Store
from core.errors import ApiError, ValidationError
from core.readiness import check_readiness_sync

from ..app import make_store
from ..config import PmsSettings
from ..operators import OPERATOR_NAME, Actor, parse_operator

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")
log = logging.getLogger("guestsync.cli")


class CommandError(Exception):
    """A failure the command explains in one line, with its exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED):
        super().__init__(message)
        self.status = status


@dataclass
class Context:
    """What a command works with: its parsed arguments, the settings, the database, who acts."""

    args: argparse.Namespace
    settings: PmsSettings
    store: Store
    actor: Actor | None
    out: TextIO

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` as one unit of work (one transaction)."""
        return self.store.call(fn, *args)


def command(
    parser: argparse.ArgumentParser,
    run: Callable[[Context], int],
    check: Callable[[argparse.Namespace, argparse.ArgumentParser], None] | None = None,
) -> None:
    """Make ``parser`` a command: ``run`` does it; ``check`` refuses argument combinations argparse
    cannot express (with ``parser.error``, exit status 2), before the database is opened."""
    parser.set_defaults(command_fn=run, command_parser=parser, command_check=check)


def positive_int(raw: str) -> int:
    """An argparse type: an integer of at least 1 (ids, limits); past a BIGINT it is the largest
    one, which names nothing."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not 1 or more")
    return min(value, MAX_ID)


def operator_name(given: str | None) -> str:
    """``--operator``, checked like the API's ``X-Operator`` header; by default ``cli.<OS user>``,
    so the audit log tells a command-line action from one made in the dashboard."""
    if given is not None:
        return parse_operator(given, "--operator")
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment (a container's uid)
        user = ""
    name = f"cli.{user}"
    if not user or not OPERATOR_NAME.fullmatch(name):
        raise CommandError(f"cannot name the operator after the OS user {user!r}: give --operator NAME", EXIT_USAGE)
    return name


def execute(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the command chosen by ``args`` (see ``command``) and return its exit status."""
    if args.command_check is not None:
        args.command_check(args, args.command_parser)
    settings = load_settings(PmsSettings, "pms")
    # Log lines would bury the one line a failure prints; a debugging operator asks for them.
    if settings.log_level.upper() != "DEBUG":
        logging.getLogger().setLevel(logging.ERROR)
    store = None
    try:
        actor = Actor(operator_name(args.operator)) if hasattr(args, "operator") else None
        store = make_store(settings)  # the URL's form was checked with the settings
        _check_database(store)
        return args.command_fn(Context(args, settings, store, actor, out))
    except CommandError as exc:
        return _fail(args, err, str(exc), exc.status)
    except ValidationError as exc:
        return _fail(
            args, err, "; ".join(f"{_label(args, d['field'])}: {d['message']}" for d in exc.details), EXIT_USAGE
        )
    except ApiError as exc:
        return _fail(args, err, exc.message, EXIT_FAILED)
    except DatabaseUnavailable as exc:
        return _fail(args, err, f"the database is unavailable: {_one_line(exc)}", EXIT_DATABASE)
    except peewee.PeeweeException as exc:
        log.debug("database error", exc_info=True)
        return _fail(args, err, f"database error: {_one_line(exc)}", EXIT_DATABASE)
    finally:
        if store is not None:
            store.close()


def _check_database(store: Store) -> None:
    readiness = check_readiness_sync(store, "pms")
    if not readiness.database_ok:
        raise CommandError(f"the database is unavailable: {readiness.error}", EXIT_DATABASE)
    if readiness.pending:
        raise CommandError(
            f"the database lacks {len(readiness.pending)} migration(s): "
            f"{', '.join(readiness.pending)}; run `python -m pms_app migrate` first",
            EXIT_DATABASE,
        )


def _fail(args: argparse.Namespace, err: TextIO, message: str, status: int) -> int:
    print(f"{args.command_parser.prog}: error: {message}", file=err)
    return status


def _label(args: argparse.Namespace, field: str) -> str:
    """An API field as the command spells it (``breaker.failure_threshold`` is
    ``--breaker-failure-threshold``): options are named after the fields they fill."""
    options = {
        action.dest: action.option_strings[-1] for action in args.command_parser._actions if action.option_strings
    }
    return options.get(field.replace(".", "_"), field)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__
