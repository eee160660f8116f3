"""The CRM app over the test database, for pytest-tornado's ``http_client``."""

from __future__ import annotations

import pytest

from crm_app.app import make_app
from crm_app.config import CrmSettings
from tests.crm_app.webhook_factory import SECRET, Sender


@pytest.fixture
def crm_settings() -> CrmSettings:
    return CrmSettings(webhook_secrets=(SECRET,))


@pytest.fixture
def app(crm_db, crm_settings):
    return make_app(crm_settings, store=crm_db.store)


@pytest.fixture
def sender(http_client, base_url) -> Sender:
    return Sender(http_client, base_url)
