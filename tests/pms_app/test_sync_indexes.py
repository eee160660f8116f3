"""Digests and manifests read covering indexes only, on both services and both backends.

The database's own plan of every statement the two sync sources run must name the
``(id, version...)`` index and read nothing else (MariaDB: ``Using index``; SQLite: ``USING
COVERING INDEX``), so their cost follows the rows in range, never the width of the rows or the
size of the outbox or the audit log.
"""

from __future__ import annotations

import pytest

from core.db import is_mysql
from core.sync import KINDS
from crm_app.services.sync_source import CrmSyncSource
from pms_app.sync.source import PmsSyncSource

PMS_INDEXES = {
    "guest": ["guest_id_version", "tombstone_kind_entity_id_version"],
    "reservation": ["reservation_id_version", "tombstone_kind_entity_id_version"],
}
CRM_INDEXES = {
    "guest": ["guest_profile_guest_id_version_deleted"],
    "reservation": ["reservation_mirror_reservation_id_version_deleted"],
}


def plan_of(database, sql: str, params: tuple) -> str:
    if is_mysql(database):
        cursor = database.execute_sql("EXPLAIN " + sql, params)
        columns = [c[0] for c in cursor.description]
        (row,) = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        return f"key={row['key']} extra={row['Extra']}"
    return " | ".join(str(r[-1]) for r in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def assert_index_only(database, plan: str, index: str) -> None:
    if is_mysql(database):
        assert f"key={index} " in plan and "Using index" in plan, plan
    else:
        assert f"USING COVERING INDEX {index}" in plan, plan


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("limit", [None, 1001])
def test_the_pms_reads_only_its_covering_indexes(pms_db, kind, limit):
    source = PmsSyncSource(pms_db.database)
    statements = source.statements(kind, 1, 10**6, limit)
    for (sql, params), index in zip(statements, PMS_INDEXES[kind], strict=True):
        plan = pms_db.store.call(plan_of, pms_db.database, sql, params, transaction=False)
        assert_index_only(pms_db.database, plan, index)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("limit", [None, 1001])
def test_the_crm_reads_only_its_covering_indexes(crm_db, kind, limit):
    source = CrmSyncSource(crm_db.database)
    statements = source.statements(kind, 1, 10**6, limit)
    for (sql, params), index in zip(statements, CRM_INDEXES[kind], strict=True):
        plan = crm_db.store.call(plan_of, crm_db.database, sql, params, transaction=False)
        assert_index_only(crm_db.database, plan, index)
