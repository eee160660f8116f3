"""``/api/v1/ready`` on a database one migration behind the code: 503 naming the migration, on
every backend and both services (the app here runs over a partially migrated database)."""

from __future__ import annotations

import pytest

from core.config import REPO_ROOT
from core.metrics import Metrics
from core.migrations import migrate
from tests.support.databases import TestDatabase
from tests.support.http import call, json_of
from tests.support.services import API


def migration_names(service: str) -> list[str]:
    return sorted(p.stem for p in (REPO_ROOT / "migrations" / service).glob("[0-9]*.py"))


@pytest.fixture
def behind(api_service, backend, tmp_path):
    names = migration_names(api_service.name)
    database = TestDatabase(api_service.name, backend, str(tmp_path), threads=2, upto=names[-2])
    yield database, names[-1]
    database.drop()


@pytest.fixture
def app(api_service, behind):
    database, _ = behind
    if api_service.name == "pms":
        from pms_app.app import make_app
        from pms_app.config import PmsSettings

        return make_app(PmsSettings(), store=database.store, metrics=Metrics("pms"))
    from crm_app.app import make_app
    from crm_app.config import CrmSettings

    return make_app(CrmSettings(), store=database.store, metrics=Metrics("crm"))


@pytest.mark.gen_test
async def test_a_pending_migration_is_named_until_it_is_applied(http_client, base_url, api_service, behind):
    database, last = behind
    response = await call(http_client, base_url, "GET", f"{API}/ready")
    assert response.code == 503
    assert json_of(response) == {
        "status": "not_ready",
        "service": api_service.name,
        "database": "ok",
        "pending_migrations": [last],
        "message": f"1 migration(s) pending: {last}",
    }
    # Health only says the database answers: the process is alive, just not fit for traffic.
    assert (await call(http_client, base_url, "GET", f"{API}/health")).code == 200
    assert migrate(database.database, api_service.name) == [last]
    assert (await call(http_client, base_url, "GET", f"{API}/ready")).code == 200
