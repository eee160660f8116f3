"""``python -m core.makemigration SERVICE NAME`` (or ``make migration SERVICE=pms NAME=...``):
writes the next numbered migration file of a service, ready to be filled in by hand.

Migrations here are written by hand, one change per file, each with a rollback that undoes it
(MySQL's DDL is not transactional, so a file that does two things and fails halfway leaves a
schema no rollback matches). peewee-migrate's own ``create --auto`` cannot serve: it rebuilds the
schema by replaying every migration in memory and fails on indexes that later migrations
dropped with their columns, and where it runs it re-adds indexes created by SQL and spells the
project's own field types as whatever it can import. The file written here has the right number,
imports and signatures, examples of the usual operations, and refuses to run until written, so
an empty migration can never be recorded as applied.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .migrations import migrations_dir

SERVICES = ("pms", "crm")
NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")
NUMBERED = re.compile(r"(\d{3})_[^.]+\.py")

TEMPLATE = '''"""{title}.

Say what changes and why; a migration that rewrites rows says how long it takes on a large table.
"""

import peewee as pw
from peewee_migrate import Migrator

# The project's own field types, for new columns that hold ids, times or JSON:
# from core.db import IdField, JSONTextField, UtcDateTimeField


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # One change, for example:
    #   migrator.add_fields("guest", vip=pw.BooleanField(default=False))
    #   migrator.add_index("guest", "country", "id")
    #   migrator.sql("UPDATE guest SET ...")   # data changes: skip them when ``fake`` is true
    # ``fake``: peewee-migrate replays applied migrations with a mocked database to rebuild its
    # model state; SQL that reads the database must not run then (see crm/005_*).
    raise NotImplementedError("{path}: write this migration (and its rollback) before applying it")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    # Undo exactly what migrate() did, for example:
    #   migrator.remove_fields("guest", "vip")
    #   migrator.drop_index("guest", "country", "id")
    raise NotImplementedError("{path}: write this rollback")
'''


class MigrationError(ValueError):
    """The migration cannot be created as asked (the message says why)."""


def next_number(directory: Path) -> int:
    numbers = [int(m.group(1)) for p in directory.iterdir() if (m := NUMBERED.fullmatch(p.name))]
    return max(numbers, default=0) + 1


def create_migration(service: str, name: str, directory: Path | None = None) -> Path:
    """Write ``NNN_<name>.py`` (the next free number) into the service's migrations and return its path."""
    if service not in SERVICES:
        raise MigrationError(f"unknown service {service!r}: one of {', '.join(SERVICES)}")
    if not NAME.fullmatch(name):
        raise MigrationError(
            f"migration name {name!r}: 1-60 of a-z, 0-9 and _, starting with a letter (it becomes a Python module name)"
        )
    directory = Path(directory or migrations_dir(service))
    taken = [p.name for p in directory.glob(f"[0-9][0-9][0-9]_{name}.py")]
    if taken:
        raise MigrationError(f"{directory / taken[0]} already exists: choose another name")
    path = directory / f"{next_number(directory):03d}_{name}.py"
    relative = f"migrations/{service}/{path.name}"
    title = name.replace("_", " ").capitalize()
    with open(path, "x", encoding="utf-8") as file:  # never overwrite a file that appeared meanwhile
        file.write(TEMPLATE.format(title=title, path=relative))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core.makemigration",
        description="Write the next numbered migration file of a service, to be filled in by hand.",
    )
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("name", help="what it does, in snake_case: add_guest_vip")
    parser.add_argument("--directory", type=Path, help="the migrations folder (default: migrations/SERVICE)")
    args = parser.parse_args(argv)
    try:
        path = create_migration(args.service, args.name, args.directory)
    except MigrationError as exc:
        print(f"makemigration: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
