"""``make migration SERVICE=... NAME=...`` (``python -m core.makemigration``): the next numbered
file with the right shape, which refuses to run until written and, once written, applies and
rolls back through peewee-migrate like every other migration, on every backend."""

from __future__ import annotations

import shutil
import subprocess
import sys

import peewee
import pytest

from core import cli, migrations
from core.config import REPO_ROOT
from core.makemigration import MigrationError, create_migration, main
from tests.support.databases import TestDatabase

WRITTEN = '''"""guest.vip: a flag the front desk sets."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields("guest", vip=pw.BooleanField(default=False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("guest", "vip")
'''


@pytest.fixture
def folder(tmp_path):
    """A copy of the PMS's migrations, so the repository's own folder is never written."""
    copy = tmp_path / "pms"
    shutil.copytree(REPO_ROOT / "migrations" / "pms", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def existing(folder) -> list[str]:
    return sorted(p.stem for p in folder.glob("[0-9][0-9][0-9]_*.py"))


def test_the_file_takes_the_next_number(folder):
    last = int(existing(folder)[-1][:3])
    path = create_migration("pms", "add_guest_vip", folder)
    assert path.name == f"{last + 1:03d}_add_guest_vip.py"
    text = path.read_text()
    compile(text, str(path), "exec")
    assert "def migrate(migrator: Migrator, database: pw.Database, *, fake=False):" in text
    assert "def rollback(migrator: Migrator, database: pw.Database, *, fake=False):" in text
    assert f"migrations/pms/{path.name}" in text
    assert create_migration("pms", "then_another", folder).name == f"{last + 2:03d}_then_another.py"


@pytest.mark.parametrize(
    "service, name, message",
    [
        ("pms", "Add-VIP", "a-z, 0-9 and _"),
        ("pms", "9lives", "a-z, 0-9 and _"),
        ("pms", "", "a-z, 0-9 and _"),
        ("billing", "add_x", "unknown service"),
        ("pms", "tombstone", "already exists"),
    ],
)
def test_refusals_name_the_reason_and_write_nothing(folder, service, name, message):
    before = existing(folder)
    with pytest.raises(MigrationError, match=message):
        create_migration(service, name, folder)
    assert existing(folder) == before


def test_the_command_prints_the_path_and_exits_by_outcome(folder, capsys):
    assert main(["pms", "add_guest_vip", "--directory", str(folder)]) == 0
    assert capsys.readouterr().out.strip().endswith("_add_guest_vip.py")
    assert main(["pms", "add_guest_vip", "--directory", str(folder)]) == 1
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["billing", "x"])
    assert usage.value.code == 2


def test_make_migration_runs_the_command():
    dry_run = subprocess.run(
        ["make", "-n", "migration", "SERVICE=crm", "NAME=add_profile_note"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert '-m core.makemigration "crm" "add_profile_note"' in dry_run.stdout


def test_a_real_process_writes_the_file(folder):
    result = subprocess.run(
        [sys.executable, "-m", "core.makemigration", "pms", "add_guest_vip", "--directory", str(folder)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert (folder / result.stdout.strip().rsplit("/", 1)[-1]).is_file()


def test_unwritten_it_refuses_to_apply_then_written_it_applies_and_rolls_back(
    backend, folder, tmp_path, monkeypatch, capsys
):
    db = TestDatabase("pms", backend, str(tmp_path))  # every migration of the repository applied
    monkeypatch.setattr(migrations, "migrations_dir", lambda service: str(folder))
    try:
        database = db.database
        path = create_migration("pms", "add_guest_vip", folder)
        assert migrations_pending(database) == [path.stem]

        # Unwritten: the migrate command fails in one line, and nothing is recorded as applied.
        assert cli.run_migrations("migrate", "pms", lambda: NoClose(db.store)) == 1
        error = capsys.readouterr().err.strip()
        assert error.splitlines() == [
            f"pms: migrate failed: NotImplementedError: migrations/pms/{path.name}: "
            "write this migration (and its rollback) before applying it"
        ]
        assert migrations_pending(database) == [path.stem]

        path.write_text(WRITTEN)
        assert migrations.migrate(database, "pms") == [path.stem]
        assert "vip" in columns(database, "guest") and migrations_pending(database) == []
        migrations.rollback(database, "pms")
        assert "vip" not in columns(database, "guest") and migrations_pending(database) == [path.stem]
    finally:
        db.drop()


class NoClose:
    """The test database's store, which the command must not close (the fixture drops it)."""

    def __init__(self, store):
        self.database = store.database

    def close(self) -> None:
        pass


def migrations_pending(database: peewee.Database) -> list[str]:
    with database.connection_context():
        return migrations.pending_migrations(database, "pms")


def columns(database: peewee.Database, table: str) -> set[str]:
    with database.connection_context():
        return {column.name for column in database.get_columns(table)}
