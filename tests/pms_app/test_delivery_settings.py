"""``pms_app/.env.example`` lists every PMS variable, each with its real default."""

from __future__ import annotations

import pytest
from dotenv import dotenv_values

from core.config import REPO_ROOT, ConfigError
from pms_app.config import PmsSettings

EXAMPLE = REPO_ROOT / "pms_app" / ".env.example"
DOCUMENTED_VARIABLES = (
    "APP_PORT",
    "APP_BASE_PATH",
    "DATABASE_URL",
    "DB_HOST",
    "DB_PORT",
    "DB_USER",
    "DB_PASS",
    "DB_NAME",
    "CRM_WEBHOOK_URL",
    "CRM_WEBHOOK_SECRET",
    "API_TOKEN",
    "WEBHOOK_RETRY_SCHEDULE",
    "DELIVERY_TIMEOUT_SECONDS",
    "DELIVERY_LEASE_SECONDS",
    "DELIVERY_CONCURRENCY",
    "BREAKER_FAILURE_THRESHOLD",
    "BREAKER_RECOVERY_SECONDS",
    "OUTBOX_RETENTION_DAYS",
    "TRUSTED_PROXIES",
    "API_RATE_LIMIT",
    "CORS_ALLOWED_ORIGINS",
    "RECONCILE_EVERY_SECONDS",
    "CRM_API_URL",
    "CRM_API_TOKEN",
    "ENDPOINT_DENIED_NETWORKS",
    "ENDPOINT_DISABLE_AFTER_HOURS",
    "OPS_WEBHOOK_URL",
    "OPS_WEBHOOK_SECRET",
    "WORKER_METRICS_PORT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "ACCESS_LOG_SAMPLE",
)


def test_the_example_lists_every_variable():
    text = EXAMPLE.read_text()
    for name in DOCUMENTED_VARIABLES:
        assert f"{name}=" in text, name


def test_the_example_values_are_the_defaults():
    assert PmsSettings.from_env({"ENV_FILE": str(EXAMPLE)}) == PmsSettings()
    assert dotenv_values(EXAMPLE)["WEBHOOK_RETRY_SCHEDULE"] == "5,30,120,600,1800,3600,10800,21600"


def test_the_examples_do_not_pin_a_database():
    """A copied example must not set DATABASE_URL: it would silently win over DB_HOST and keep
    a service on SQLite that was meant to run on MySQL."""
    for service in ("pms_app", "crm_app"):
        values = dotenv_values(REPO_ROOT / service / ".env.example")
        assert "DATABASE_URL" not in values, service
        assert "# DATABASE_URL=" in (REPO_ROOT / service / ".env.example").read_text(), service
    # The dashboard owns no database: nothing there to pin.
    assert "DATABASE_URL" not in (REPO_ROOT / "dashboard" / ".env.example").read_text()


def test_the_worker_metrics_port():
    assert PmsSettings().worker_metrics_port == 4002
    assert PmsSettings.from_env({"ENV_FILE": "/dev/null", "WORKER_METRICS_PORT": "0"}).worker_metrics_port == 0


def test_the_trace_export_endpoint():
    assert PmsSettings().otel_exporter_otlp_endpoint is None
    given = PmsSettings.from_env({"ENV_FILE": "/dev/null", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert given.otel_exporter_otlp_endpoint == "http://collector:4318"
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        PmsSettings.from_env({"ENV_FILE": "/dev/null", "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"})
