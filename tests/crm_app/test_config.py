"""CrmSettings from the environment: the documented defaults, overrides, secrets, and .env.example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import ConfigError
from crm_app.config import CrmSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "crm_app" / ".env.example"


def settings(**env: str) -> CrmSettings:
    return CrmSettings.from_env({"ENV_FILE": "/nonexistent", **env})


def test_defaults_are_the_spec_defaults():
    s = settings()
    assert (s.port, s.base_path, s.database_url, s.api_token) == (5001, "/api/v1", "sqlite:///data/crm.db", None)
    assert (s.webhook_secrets, s.webhook_max_skew_seconds, s.webhook_max_body_bytes) == (
        ("supersecret-shared-key",),
        1800,
        262144,
    )
    assert s.webhook_keys == (b"supersecret-shared-key",)
    assert s.access_log_sample == 0.1 and settings(ACCESS_LOG_SAMPLE="1").access_log_sample == 1.0


def test_overrides_and_secret_list():
    s = settings(
        APP_PORT="6001",
        APP_BASE_PATH="/crm/",
        API_TOKEN="t",
        WEBHOOK_MAX_SKEW_SECONDS="60",
        WEBHOOK_MAX_BODY_BYTES="1000",
        WEBHOOK_SHARED_SECRET="old  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        DB_HOST="db",
        DB_USER="crm",
        DB_PASS="p@ss",
        DB_NAME="crm_db",
    )
    assert (s.port, s.base_path, s.api_token, s.webhook_max_skew_seconds, s.webhook_max_body_bytes) == (
        6001,
        "/crm",
        "t",
        60,
        1000,
    )
    assert s.webhook_secrets == ("old", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert s.webhook_keys[0] == b"old" and len(s.webhook_keys[1]) == 24
    assert s.database_url == "mysql://crm:p%40ss@db:3306/crm_db"


@pytest.mark.parametrize(
    "env",
    [
        {"WEBHOOK_SHARED_SECRET": "whsec_***"},
        {"APP_PORT": "x"},
        {"WEBHOOK_MAX_BODY_BYTES": "0"},
        {"ACCESS_LOG_SAMPLE": "1.5"},
        {"ACCESS_LOG_SAMPLE": "-0.1"},
        {"ACCESS_LOG_SAMPLE": "nan"},
        {"ACCESS_LOG_SAMPLE": "half"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://"},
    ],
)
def test_unusable_values_are_configuration_errors(env):
    with pytest.raises(ConfigError):
        settings(**env)


def test_env_example_lists_every_crm_variable_with_its_default():
    text = EXAMPLE.read_text()
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", text, flags=re.M))
    assert {
        "APP_PORT",
        "APP_BASE_PATH",
        "DATABASE_URL",
        "DB_HOST",
        "DB_PORT",
        "DB_USER",
        "DB_PASS",
        "DB_NAME",
        "WEBHOOK_SHARED_SECRET",
        "WEBHOOK_MAX_SKEW_SECONDS",
        "WEBHOOK_MAX_BODY_BYTES",
        "API_TOKEN",
        "TRUSTED_PROXIES",
        "API_RATE_LIMIT",
        "CORS_ALLOWED_ORIGINS",
        "ACCESS_LOG_SAMPLE",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    } <= listed
    example = {k: v for k, v in re.findall(r"^([A-Z_]+)=(.*)$", text, flags=re.M)}
    assert settings(**example) == settings()
