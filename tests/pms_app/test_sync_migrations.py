"""Reconciliation's migrations roll back and apply again, on SQLite and MariaDB, for both services."""

from __future__ import annotations

import pytest

from core.migrations import migrate, rollback
from tests.support import databases

# service -> (migrations of reconciliation, newest last; tables they create; indexes they add)
MIGRATIONS = {
    "pms": (
        ["008_tombstone", "009_sync_run", "010_sync_lease", "011_guest_sync_index", "012_reservation_sync_index"],
        {"tombstone", "sync_run", "sync_lease"},
        {("guest", "guest_id_version"), ("reservation", "reservation_id_version")},
    ),
    "crm": (
        ["006_guest_profile_sync_index", "007_reservation_mirror_sync_index"],
        set(),
        {
            ("guest_profile", "guest_profile_guest_id_version_deleted"),
            ("reservation_mirror", "reservation_mirror_reservation_id_version_deleted"),
        },
    ),
}


def schema(database) -> tuple[set, set]:
    tables = set(database.get_tables())
    indexes = {(table, index.name) for table in tables for index in database.get_indexes(table)}
    return tables, indexes


@pytest.mark.parametrize("service", sorted(MIGRATIONS))
def test_rollback_and_migrate_again(backend, tmp_path, service):
    names, tables, indexes = MIGRATIONS[service]
    # Migrated up to reconciliation's last one: later migrations are not this test's to undo.
    db = databases.TestDatabase(service, backend, str(tmp_path), upto=names[-1])
    try:
        database = db.database
        with database.connection_context():
            full_tables, full_indexes = schema(database)
        assert tables <= full_tables and indexes <= full_indexes
        for _ in names:
            rollback(database, service)
        with database.connection_context():
            bare_tables, bare_indexes = schema(database)
        assert not tables & bare_tables and not indexes & bare_indexes
        assert migrate(database, service, upto=names[-1]) == names
        with database.connection_context():
            assert schema(database) == (full_tables, full_indexes)
    finally:
        db.drop()
