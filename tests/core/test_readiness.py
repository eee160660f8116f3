"""``GET|HEAD /api/v1/ready`` and ``HEAD /health`` on both APIs, through the real applications on
every backend: ready on a migrated database, 503 naming what is wrong otherwise."""

from __future__ import annotations

import pytest

from core.app import open_store
from core.metrics import Metrics
from tests.support.http import call, json_of
from tests.support.services import API


@pytest.mark.gen_test
async def test_a_migrated_database_is_ready(http_client, base_url, api_service):
    response = await call(http_client, base_url, "GET", f"{API}/ready")
    assert response.code == 200
    assert json_of(response) == {
        "status": "ready",
        "service": api_service.name,
        "database": "ok",
        "pending_migrations": [],
        "message": "ready",
    }
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.gen_test
async def test_head_answers_health_and_readiness_without_a_body(http_client, base_url):
    for path in (f"{API}/health", f"{API}/ready"):
        response = await call(http_client, base_url, "HEAD", path)
        assert response.code == 200, path
        assert response.body == b""
        assert int(response.headers["Content-Length"]) > 0  # the length GET's body would have


@pytest.mark.gen_test
async def test_metrics_carry_the_process_collectors(http_client, base_url):
    text = (await call(http_client, base_url, "GET", "/metrics")).body.decode()
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "python_info",
        "python_gc_collections_total",
    ):
        assert f"\n{name}" in text, name


class TestWithAToken:
    @pytest.fixture
    def app(self, request, api_service, backend):
        # The services' own settings classes, with API_TOKEN set.
        if api_service.name == "pms":
            from pms_app.app import make_app
            from pms_app.config import PmsSettings

            return make_app(PmsSettings(api_token="t0ken"), store=request.getfixturevalue("pms_db").store)
        from crm_app.app import make_app
        from crm_app.config import CrmSettings

        return make_app(CrmSettings(api_token="t0ken"), store=request.getfixturevalue("crm_db").store)

    @pytest.mark.gen_test
    async def test_probes_need_no_token(self, http_client, base_url):
        assert (await call(http_client, base_url, "GET", f"{API}/guests")).code in (401, 404)
        for method in ("GET", "HEAD"):
            for path in (f"{API}/ready", f"{API}/health"):
                assert (await call(http_client, base_url, method, path)).code == 200, (method, path)


class TestDatabaseDown:
    """A database that refuses connections: readiness says so, without the driver's text
    (it names internal hosts and the probe answers anyone)."""

    @pytest.fixture
    def app(self, api_service):
        store = open_store("mysql://guestsync@127.0.0.1:1/nowhere", threads=2, name="down")
        if api_service.name == "pms":
            from pms_app.app import make_app
            from pms_app.config import PmsSettings

            yield make_app(PmsSettings(), store=store, metrics=Metrics("pms"))
        else:
            from crm_app.app import make_app
            from crm_app.config import CrmSettings

            yield make_app(CrmSettings(), store=store, metrics=Metrics("crm"))
        store.close()

    @pytest.mark.gen_test
    async def test_ready_is_a_503_saying_the_database_is_down(self, http_client, base_url, api_service):
        response = await call(http_client, base_url, "GET", f"{API}/ready")
        assert response.code == 503
        body = json_of(response)
        assert body == {
            "status": "not_ready",
            "service": api_service.name,
            "database": "unavailable",
            "pending_migrations": [],
            "message": "the database is unavailable",
        }
        head = await call(http_client, base_url, "HEAD", f"{API}/health")
        assert head.code == 503 and head.body == b""
