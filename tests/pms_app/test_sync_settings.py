"""Reconciliation settings: the schedule, and where the CRM's API is found."""

from __future__ import annotations

import pytest

from core.config import ConfigError
from pms_app.config import PmsSettings


def settings(**env) -> PmsSettings:
    return PmsSettings.from_env({"ENV_FILE": "/nonexistent", **env})


def test_defaults():
    s = settings()
    assert (s.reconcile_every_seconds, s.crm_api_url, s.crm_api_token) == (3600, None, None)
    assert s.crm_api_base == "http://localhost:5001/api/v1"


@pytest.mark.parametrize(
    "webhook_url, base",
    [
        ("https://crm.example.com/api/v1/webhooks/pms", "https://crm.example.com/api/v1"),
        ("http://crm:5001/crm/api/webhooks/pms/", "http://crm:5001/crm/api"),  # a custom APP_BASE_PATH
        ("http://hooks.example.com/inbox", "http://hooks.example.com/api/v1"),  # not the CRM's path: its origin
    ],
)
def test_the_crm_api_is_derived_from_the_webhook_url(webhook_url, base):
    assert settings(CRM_WEBHOOK_URL=webhook_url).crm_api_base == base


def test_explicit_crm_api_url_and_token_win():
    s = settings(CRM_API_URL="https://crm-internal:8443/api/v1/", CRM_API_TOKEN="t0k", RECONCILE_EVERY_SECONDS="0")
    assert (s.crm_api_base, s.crm_api_token, s.reconcile_every_seconds) == (
        "https://crm-internal:8443/api/v1",
        "t0k",
        0,
    )


@pytest.mark.parametrize(
    "env, name",
    [
        ({"CRM_API_URL": "crm:5001/api/v1"}, "CRM_API_URL"),
        ({"CRM_API_URL": "ftp://crm/api"}, "CRM_API_URL"),
        ({"RECONCILE_EVERY_SECONDS": "-1"}, "RECONCILE_EVERY_SECONDS"),
        ({"RECONCILE_EVERY_SECONDS": "hourly"}, "RECONCILE_EVERY_SECONDS"),
    ],
)
def test_bad_values_stop_the_service_naming_the_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        settings(**env)
