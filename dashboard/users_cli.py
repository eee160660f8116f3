"""``python -m dashboard users add|remove|list``: manage the operators file from the command line.

``add NAME`` asks for the password twice when run at a terminal; with ``--generate``, or when
standard input is not a terminal, it generates a strong one and prints it once. Adding a name
that exists changes its password. A running dashboard notices the change on its next request:
a removed operator, or one whose password changed, is signed out everywhere at once.
Exit status: 0 done, 1 refused or failed (the message says why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from pathlib import Path
from typing import TextIO
from collections.abc import Callable

from .passwords import hash_password
from .users import UsersFileError, name_problem, read_users, write_users

MIN_PASSWORD_CHARS = 12


class CommandError(Exception):
    """A refusal to report to the operator (exit status 1)."""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m dashboard users", description="Manage the dashboard's operators (DASHBOARD_USERS_FILE)."
    )
    commands = top.add_subparsers(dest="action", required=True, metavar="{add,remove,list}")
    add = commands.add_parser("add", help="add an operator, or change their password")
    add.add_argument("name")
    add.add_argument("--generate", action="store_true", help="generate a password and print it once")
    remove = commands.add_parser("remove", help="remove an operator (their sessions end at once)")
    remove.add_argument("name")
    commands.add_parser("list", help="list the operators' names")
    return top


def ask_password(prompt: Callable[[str], str]) -> str:
    first = prompt("Password: ")
    if len(first) < MIN_PASSWORD_CHARS:
        raise CommandError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    if prompt("Password again: ") != first:
        raise CommandError("the two passwords differ; nothing was changed")
    return first


def add(path: Path, name: str, generate: bool, interactive: bool, prompt: Callable[[str], str], out: TextIO) -> None:
    problem = name_problem(name)
    if problem:
        raise CommandError(f"cannot add {name!r}: {problem}")
    users = read_users(path)
    generated = generate or not interactive
    password = secrets.token_urlsafe(18) if generated else ask_password(prompt)
    new = users.set(name, hash_password(password))
    write_users(path, users)
    print(f"{'added' if new else 'changed the password of'} {name} in {path}", file=out)
    if generated:
        print(f"password for {name} (shown only now): {password}", file=out)


def remove(path: Path, name: str, out: TextIO) -> None:
    users = read_users(path)
    if not users.remove(name):
        raise CommandError(f"there is no operator {name!r} in {path}")
    write_users(path, users)
    print(f"removed {name} from {path}; their sessions end at once", file=out)


def list_users(path: Path, out: TextIO) -> None:
    users = read_users(path)
    for problem in users.problems:
        print(f"warning: {path}: {problem} (ignored)", file=sys.stderr)
    if not users.users:
        print(f"no operators in {path} (only the DASHBOARD_TOKEN login as ops works)", file=out)
    for name in users.users:
        print(name, file=out)


def main(
    argv: list[str],
    path: Path,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> int:
    args = parser().parse_args(argv)
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        if args.action == "add":
            add(path, args.name, args.generate, stdin.isatty(), prompt, out)
        elif args.action == "remove":
            remove(path, args.name, out)
        else:
            list_users(path, out)
    except (CommandError, UsersFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nerror: interrupted; nothing was changed", file=sys.stderr)
        return 1
    return 0
