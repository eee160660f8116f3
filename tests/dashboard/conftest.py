"""Fixtures for the dashboard: fake PMS and CRM servers, and the dashboard app over them; or
the real PMS and CRM (``stack``) for the pages that act on them.

``outage`` (parametrised indirectly with "pms" or "crm") points that service's URL at a
port where nothing listens.
"""

from __future__ import annotations

import pytest
from dashboard.app import close_app, make_app
from dashboard.clients import Services
from dashboard.config import DashboardSettings
from dashboard.live import Hub
from tests.support.processes import free_port

from .fakes import FakeCrm, FakePms
from .stack import start_stack
from .support import TOKEN, Visitor, serve_app


def _serve(io_loop, application):
    return serve_app(application)


@pytest.fixture
def stack(io_loop, pms_db, crm_db):
    """The real PMS and CRM APIs on the test databases, served in this process."""
    running = start_stack(pms_db.store, crm_db.store)
    yield running
    running.stop()


@pytest.fixture
def fake_pms(io_loop):
    fake = FakePms()
    server, fake.url = _serve(io_loop, fake.app())
    yield fake
    server.stop()


@pytest.fixture
def fake_crm(io_loop):
    fake = FakeCrm()
    server, fake.url = _serve(io_loop, fake.app())
    yield fake
    server.stop()


@pytest.fixture
def dead_url():
    """An origin where nothing listens (the port was bound, then closed)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def outage(request):
    return getattr(request, "param", None)


@pytest.fixture
def users_file(tmp_path):
    """Where this test's operators file lives (absent until a test writes it)."""
    return tmp_path / "users.txt"


@pytest.fixture
def dashboard_settings(fake_pms, fake_crm, outage, dead_url, users_file):
    return DashboardSettings(
        pms_url=dead_url if outage == "pms" else fake_pms.url,
        crm_url=dead_url if outage == "crm" else fake_crm.url,
        token=TOKEN,
        poll_seconds=0.05,
        live_linger_seconds=0,
        request_timeout_seconds=2,
        client_queue_size=16,
        users_file=users_file,
    )


@pytest.fixture
def app(dashboard_settings):
    application = make_app(dashboard_settings)
    yield application
    close_app(application)


@pytest.fixture
def hub(app) -> Hub:
    return app.settings["hub"]


@pytest.fixture
def services(app) -> Services:
    return app.settings["services"]


@pytest.fixture
def visitor(http_client, base_url):
    return Visitor(http_client, base_url)
