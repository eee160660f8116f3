"""PMS migrations 018-019 (the attempts' started_at index, each attempt's request) and CRM
migration 008 (the rejections' received_at index), forward and back over existing rows."""

from __future__ import annotations

import pytest

from core.migrations import migrate, rollback
from tests.support.databases import TestDatabase

T0 = "2026-11-01 10:00:00.000000"


def columns(database, table: str) -> set[str]:
    return {c.name for c in database.get_columns(table)}


def indexed(database, table: str) -> set[tuple]:
    return {tuple(i.columns) for i in database.get_indexes(table)}


@pytest.fixture
def pms_at_018(backend, tmp_path):
    database = TestDatabase("pms", backend, str(tmp_path), threads=2, upto="018_outbox_traceparent")
    yield database
    database.drop()


@pytest.fixture
def crm_at_008(backend, tmp_path):
    database = TestDatabase("crm", backend, str(tmp_path), threads=2, upto="008_event_trace_id")
    yield database
    database.drop()


def test_attempts_gain_their_index_and_request_columns_and_lose_them_on_rollback(pms_at_018):
    database = pms_at_018.database
    with database.connection_context():
        database.execute_sql(
            "INSERT INTO delivery_attempt (event_id, delivery_id, attempt, started_at, status_code, "
            f"duration_ms, trigger_kind) VALUES ('e-1', 1, 1, '{T0}', 500, 3, 'scheduled')"
        )
        assert migrate(database, "pms") == ["019_attempt_started_index", "020_attempt_request"]
        assert ("started_at",) in indexed(database, "delivery_attempt")
        assert {"target_url", "signatures"} <= columns(database, "delivery_attempt")
        # the attempt made before keeps its row, with nothing recorded about its request
        assert list(
            database.execute_sql("SELECT target_url, signatures, status_code FROM delivery_attempt").fetchall()
        ) == [(None, None, 500)]
        rollback(database, "pms")
        rollback(database, "pms")
        assert not {"target_url", "signatures"} & columns(database, "delivery_attempt")
        assert ("started_at",) not in indexed(database, "delivery_attempt")
        assert database.execute_sql("SELECT COUNT(*) FROM delivery_attempt").fetchone()[0] == 1


def test_rejections_gain_their_received_at_index(crm_at_008):
    database = crm_at_008.database
    with database.connection_context():
        assert migrate(database, "crm") == ["009_rejection_received_index"]
        assert ("received_at",) in indexed(database, "rejection")
        rollback(database, "crm")
        assert ("received_at",) not in indexed(database, "rejection")
