"""The PMS app over the test database, for pytest-tornado's ``http_client``."""

from __future__ import annotations

import pytest

from pms_app.app import make_app
from pms_app.config import PmsSettings


@pytest.fixture
def pms_settings() -> PmsSettings:
    return PmsSettings()


@pytest.fixture
def app(pms_db, pms_settings):
    return make_app(pms_settings, store=pms_db.store)
