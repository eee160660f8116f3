"""The PMS's access log is sampled like the CRM's: every answer that is not a 2xx gets a line, a
set share of the 2xx answers do, and ``ACCESS_LOG_SAMPLE`` sets that share (0.1 by default)."""

from __future__ import annotations

import logging

import pytest

from core.config import ConfigError
from pms_app.config import PmsSettings
from tests.support.http import call


@pytest.fixture
def pms_settings() -> PmsSettings:
    return PmsSettings(access_log_sample=0.5)


@pytest.mark.gen_test
async def test_every_failure_and_half_of_the_successes_get_a_line(http_client, base_url, caplog):
    caplog.set_level(logging.INFO, logger="guestsync.access")
    for i in range(6):
        response = await call(
            http_client,
            base_url,
            "POST",
            "/api/v1/guests",
            {"email": f"sampled{i}@example.com", "name": f"Sampled {i}"},
        )
        assert response.code == 201
    for _ in range(3):
        assert (await call(http_client, base_url, "GET", "/api/v1/guests/999999")).code == 404
    lines = [r for r in caplog.records if r.name == "guestsync.access"]
    successes = [r for r in lines if r.status == 201]
    missing = [r for r in lines if r.status == 404]
    assert len(successes) == 3 and all(r.sample == 0.5 for r in successes)
    assert len(missing) == 3 and not any(hasattr(r, "sample") for r in missing)


def test_the_share_is_read_from_the_environment():
    assert PmsSettings.from_env({"ENV_FILE": "/dev/null"}).access_log_sample == 0.1
    assert PmsSettings.from_env({"ENV_FILE": "/dev/null", "ACCESS_LOG_SAMPLE": "1"}).access_log_sample == 1.0
    for bad in ("1.5", "-0.1", "nan", "half"):
        with pytest.raises(ConfigError, match="ACCESS_LOG_SAMPLE"):
            PmsSettings.from_env({"ENV_FILE": "/dev/null", "ACCESS_LOG_SAMPLE": bad})
