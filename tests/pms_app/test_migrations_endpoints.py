"""PMS migrations 013-017 (endpoints, deliveries per endpoint, endpoint health and rate buckets,
notifications) forward and back over part-one data."""

from __future__ import annotations

import pytest

from core.migrations import migrate, rollback
from tests.support.databases import TestDatabase

BEFORE = "012_reservation_sync_index"
ADDED = [
    "013_endpoint",
    "014_delivery",
    "015_outbox_event_only",
    "016_endpoint_health",
    "017_notification",
    "018_outbox_traceparent",
    "019_attempt_started_index",
]
T0 = "2026-11-01 10:00:00.000000"
T1 = "2026-11-01 10:05:00.000000"
# The outbox as part one wrote it, every delivery column included.
PART_ONE_COLUMNS = (
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
    "delivered_at",
    "last_error",
    "attempts_since_replay",
    "next_trigger",
    "replayed_by",
    "claimed_by",
    "lease_until",
)
# id -> (status, attempt_count, delivered_at, last_error, attempts_since_replay, next_trigger, replayed_by,
#        claimed_by, lease_until)
PART_ONE = {
    "delivered": ("delivered", 2, T1, None, 2, "scheduled", None, None, None),
    "failed": ("failed", 3, None, "HTTP 500", 3, "scheduled", None, None, None),
    "replayed": ("pending", 4, None, "HTTP 503", 0, "replay", "alice", None, None),
    "in-flight": ("delivering", 0, None, None, 0, "scheduled", None, "w-1", T1),
    "fresh": ("pending", 0, None, None, 0, "scheduled", None, None, None),
}
ATTEMPTS = {"delivered": [500, 202], "failed": [500, 500, 500], "replayed": [500, 500, 500, 503]}


@pytest.fixture
def old_db(backend, tmp_path):
    database = TestDatabase("pms", backend, str(tmp_path), threads=2, upto=BEFORE)
    yield database
    database.drop()


def seed(database) -> None:
    marks = ", ".join([database.param] * len(PART_ONE_COLUMNS))
    for entity_id, (event_id, row) in enumerate(PART_ONE.items(), start=1):
        status, count, delivered_at, error, since, trigger, by, owner, lease = row
        database.execute_sql(
            f"INSERT INTO outbox_event ({', '.join(PART_ONE_COLUMNS)}) VALUES ({marks})",
            (
                event_id,
                "guest.updated",
                entity_id,
                1,
                f'{{"id": {entity_id}}}',
                T0,
                status,
                count,
                T0,
                T0,
                delivered_at,
                error,
                since,
                trigger,
                by,
                owner,
                lease,
            ),
        )
        for number, code in enumerate(ATTEMPTS.get(event_id, []), start=1):
            database.execute_sql(
                "INSERT INTO delivery_attempt (event_id, attempt, started_at, status_code, duration_ms) "
                f"VALUES ({', '.join([database.param] * 5)})",
                (event_id, number, T0, code, 7),
            )
    database.execute_sql(
        "INSERT INTO breaker_transition (worker_id, endpoint, from_state, to_state, failure_count, at) "
        f"VALUES ({', '.join([database.param] * 6)})",
        ("w-1", "http://crm/hook", "closed", "open", 5, T0),
    )


def rows(database, sql: str) -> list[tuple]:
    return [tuple(r) for r in database.execute_sql(sql).fetchall()]


def text(value) -> str | None:
    """Datetimes come back as datetimes on MySQL and as text on SQLite: compare them as text."""
    if value is None:
        return None
    return value if isinstance(value, str) else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def outbox_state(database) -> dict[str, tuple]:
    found = rows(
        database,
        "SELECT id, status, attempt_count, delivered_at, last_error, attempts_since_replay, "
        "next_trigger, replayed_by, claimed_by, lease_until FROM outbox_event ORDER BY seq",
    )
    return {r[0]: (r[1], r[2], text(r[3]), *r[4:9], text(r[9])) for r in found}


def test_part_one_data_moves_onto_endpoint_1_and_back(old_db, monkeypatch):
    monkeypatch.setenv("CRM_WEBHOOK_URL", "http://crm.internal:5001/api/v1/webhooks/pms")
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", "first-secret second-secret")
    database, store = old_db.database, old_db.store
    store.call(seed, database)
    before = store.call(outbox_state, database)
    assert before == PART_ONE

    with database.connection_context():
        assert migrate(database, "pms", ADDED[-1]) == ADDED
        # Endpoint 1 from the configuration, both secrets signing.
        assert "failing_since" in {c.name for c in database.get_columns("endpoint")}
        assert "endpoint_rate" in database.get_tables()
        assert rows(database, "SELECT id, name, url, from_config FROM endpoint") == [
            (1, "crm", "http://crm.internal:5001/api/v1/webhooks/pms", 1)
        ]
        assert rows(database, "SELECT secret FROM endpoint_secret ORDER BY id") == [
            ("first-secret",),
            ("second-secret",),
        ]
        # The event is stored once, without delivery columns; each became a delivery to endpoint 1.
        assert "status" not in {c.name for c in database.get_columns("outbox_event")}
        moved = rows(
            database,
            "SELECT d.event_id, d.status, d.attempt_count, d.delivered_at, d.last_error, "
            "d.attempts_since_replay, d.next_trigger, d.replayed_by, d.claimed_by, "
            "d.lease_until, d.endpoint_id, d.id = e.seq, d.last_status_code "
            "FROM delivery d JOIN outbox_event e ON e.seq = d.event_seq ORDER BY d.id",
        )
        assert {r[0]: (r[1], r[2], text(r[3]), *r[4:9], text(r[9])) for r in moved} == PART_ONE
        assert {(r[10], r[11]) for r in moved} == {(1, 1)}
        assert rows(database, "SELECT COUNT(*) FROM delivery WHERE guest_id = entity_id") == [(5,)]
        assert {r[0]: r[12] for r in moved} == {
            "delivered": 202,
            "failed": 500,
            "replayed": 503,
            "in-flight": None,
            "fresh": None,
        }
        # Every attempt hangs off its event's delivery, numbered as before.
        attached = rows(
            database,
            "SELECT a.event_id, a.attempt, d.event_id FROM delivery_attempt a "
            "JOIN delivery d ON d.id = a.delivery_id ORDER BY a.id",
        )
        assert len(attached) == 9 and all(a[0] == a[2] for a in attached)
        assert rows(database, "SELECT endpoint FROM breaker_transition") == [("1",)]

        for _ in ADDED:
            rollback(database, "pms")
        assert rows(database, "SELECT name FROM migratehistory ORDER BY id")[-1] == (BEFORE,)
        assert not {"endpoint", "endpoint_secret", "delivery", "endpoint_rate", "notification"} & set(
            database.get_tables()
        )
        assert rows(database, "SELECT COUNT(*) FROM delivery_attempt") == [(9,)]
        assert rows(database, "SELECT endpoint FROM breaker_transition") == [
            ("http://crm.internal:5001/api/v1/webhooks/pms",)
        ]
    # Every row and status survives the round trip.
    assert store.call(outbox_state, database) == before

    with database.connection_context():
        assert migrate(database, "pms", ADDED[-1]) == ADDED  # and forward again over the same data
        assert rows(database, "SELECT COUNT(*) FROM delivery WHERE endpoint_id = 1") == [(5,)]


def test_rollback_keeps_the_crm_state_when_other_endpoints_had_deliveries(old_db):
    database, store = old_db.database, old_db.store
    store.call(seed, database)
    with database.connection_context():
        migrate(database, "pms", ADDED[-1])
        database.execute_sql(
            "INSERT INTO endpoint (name, url, event_types, enabled, from_config, created_at, "
            f"updated_at) VALUES ('other', 'http://x/', '[]', 1, 0, '{T0}', '{T0}')"
        )
        other = database.execute_sql("SELECT id FROM endpoint WHERE name = 'other'").fetchone()[0]
        database.execute_sql(
            "INSERT INTO delivery (event_seq, event_id, endpoint_id, type, entity_id, entity_version, status, "
            "attempt_count, attempts_since_replay, next_attempt_at, next_trigger, created_at) "
            f"SELECT seq, id, {other}, type, entity_id, entity_version, 'failed', 1, 1, created_at, 'scheduled', "
            "created_at FROM outbox_event"
        )
        database.execute_sql(
            "INSERT INTO delivery_attempt (event_id, delivery_id, attempt, started_at, status_code, duration_ms, "
            f"trigger_kind) SELECT event_id, id, 1, created_at, 500, 3, 'scheduled' FROM delivery "
            f"WHERE endpoint_id = {other}"
        )
        for _ in ADDED:
            rollback(database, "pms")
        # The other endpoint's attempts go with its deliveries; the CRM's state is what part one sees.
        assert rows(database, "SELECT COUNT(*) FROM delivery_attempt") == [(9,)]
    assert store.call(outbox_state, database) == PART_ONE
