"""PMS migrations 005-007 (audit log, replay attribution) forward and back over a database holding data."""

from __future__ import annotations

import pytest

from core.migrations import migrate, rollback
from tests.support.databases import TestDatabase

BEFORE = "004_breaker_transition"
ADDED = ["005_audit_log", "006_outbox_replay_attribution", "007_attempt_trigger"]
T0 = "2026-11-01 10:00:00.000000"
# The outbox as older code wrote it: no column added by 006.
OLD_EVENT_COLUMNS = (
    "id",
    "type",
    "entity_id",
    "entity_version",
    "payload",
    "occurred_at",
    "status",
    "attempt_count",
    "next_attempt_at",
    "created_at",
)


@pytest.fixture
def old_db(backend, tmp_path):
    database = TestDatabase("pms", backend, str(tmp_path), threads=2, upto=BEFORE)
    yield database
    database.drop()


def columns(database, table: str) -> set[str]:
    return {c.name for c in database.get_columns(table)}


def insert_event(database, event_id: str, status: str, attempt_count: int) -> None:
    marks = ", ".join([database.param] * len(OLD_EVENT_COLUMNS))
    database.execute_sql(
        f"INSERT INTO outbox_event ({', '.join(OLD_EVENT_COLUMNS)}) VALUES ({marks})",
        (event_id, "guest.updated", 1, 1, '{"id": 1}', T0, status, attempt_count, T0, T0),
    )


def insert_attempts(database, event_id: str, n: int) -> None:
    for number in range(1, n + 1):
        database.execute_sql(
            "INSERT INTO delivery_attempt (event_id, attempt, started_at, status_code, duration_ms) "
            f"VALUES ({', '.join([database.param] * 5)})",
            (event_id, number, T0, 500, 7),
        )


def outbox_rows(database, *names: str) -> dict[str, tuple]:
    cursor = database.execute_sql(f"SELECT id, {', '.join(names)} FROM outbox_event ORDER BY seq")
    return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def applied(database) -> list[str]:
    return [row[0] for row in database.execute_sql("SELECT name FROM migratehistory ORDER BY id").fetchall()]


def test_forward_and_back_over_existing_data(old_db):
    database, store = old_db.database, old_db.store

    def seed():
        # "replayed": 3 attempts, then a replay reset its count to 0, then 1 more (old meaning).
        insert_event(database, "replayed", "failed", 1)
        insert_attempts(database, "replayed", 4)
        insert_event(database, "plain", "delivered", 2)
        insert_attempts(database, "plain", 2)
        insert_event(database, "fresh", "pending", 0)

    store.call(seed)
    assert store.call(applied, database)[-1] == BEFORE

    assert migrate(database, "pms", upto=ADDED[-1]) == ADDED
    with database.connection_context():
        assert "audit_log" in database.get_tables()
        assert {"attempts_since_replay", "next_trigger", "replayed_by"} <= columns(database, "outbox_event")
        assert {"trigger_kind", "replayed_by"} <= columns(database, "delivery_attempt")
    # attempt_count now counts every attempt ever; the old count becomes the retry step.
    assert store.call(
        outbox_rows, database, "attempt_count", "attempts_since_replay", "next_trigger", "replayed_by"
    ) == {"replayed": (4, 1, "scheduled", None), "plain": (2, 2, "scheduled", None), "fresh": (0, 0, "scheduled", None)}
    triggers = store.call(
        lambda: database.execute_sql("SELECT DISTINCT trigger_kind, replayed_by FROM delivery_attempt").fetchall()
    )
    assert [tuple(t) for t in triggers] == [("scheduled", None)]

    # Rows written the old way (bench/e2e.py inserts by hand) still get valid values.
    store.call(lambda: (insert_event(database, "by-hand", "pending", 0), insert_attempts(database, "by-hand", 1)))
    by_hand = store.call(outbox_rows, database, "attempts_since_replay", "next_trigger")["by-hand"]
    assert by_hand == (0, "scheduled")
    store.call(
        lambda: database.execute_sql(
            "INSERT INTO audit_log (operator, action, target, details, request_id, at) "
            f"VALUES ({', '.join([database.param] * 6)})",
            ("alice", "delivery.replay", "replayed", "{}", "r1", T0),
        )
    )

    for _ in ADDED:
        rollback(database, "pms")
    assert store.call(applied, database)[-1] == BEFORE
    with database.connection_context():
        assert "audit_log" not in database.get_tables()
        assert not {"attempts_since_replay", "next_trigger", "replayed_by"} & columns(database, "outbox_event")
        assert not {"trigger_kind", "replayed_by"} & columns(database, "delivery_attempt")
    # Every row survives, with attempt_count back to its old meaning.
    assert store.call(outbox_rows, database, "status", "attempt_count") == {
        "replayed": ("failed", 1),
        "plain": ("delivered", 2),
        "fresh": ("pending", 0),
        "by-hand": ("pending", 0),
    }
    attempts = store.call(lambda: database.execute_sql("SELECT COUNT(*) FROM delivery_attempt").fetchone()[0])
    assert attempts == 7

    assert migrate(database, "pms", upto=ADDED[-1]) == ADDED  # and forward again over the same data
    assert store.call(outbox_rows, database, "attempt_count", "attempts_since_replay")["replayed"] == (4, 1)
