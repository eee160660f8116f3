"""Settings from the environment and ``.env`` files."""

import pytest

from core.config import ConfigError, EnvReader, load_environment, redact_url
from pms_app.config import PmsSettings


def test_defaults_match_the_spec():
    settings = PmsSettings.from_env({"ENV_FILE": "/nonexistent"})
    assert settings.port == 4001 and settings.base_path == "/api/v1"
    assert settings.database_url == "sqlite:///data/pms.db"
    assert settings.crm_webhook_url == "http://localhost:5001/api/v1/webhooks/pms"
    assert settings.crm_webhook_secrets == ("supersecret-shared-key",)
    assert settings.retry_schedule == (5, 30, 120, 600, 1800, 3600, 10800, 21600)
    assert (settings.delivery_timeout_seconds, settings.delivery_lease_seconds, settings.delivery_concurrency) == (
        10,
        60,
        8,
    )
    assert (settings.breaker_failure_threshold, settings.breaker_recovery_seconds) == (5, 30)
    assert settings.outbox_retention_days == 7 and settings.api_token is None


def test_db_variables_form_a_mysql_url_when_database_url_is_unset():
    env = EnvReader(
        {"DB_HOST": "db.internal", "DB_PORT": "3307", "DB_USER": "pms", "DB_PASS": "p@ss:word", "DB_NAME": "pms_db"}
    )
    assert env.database_url("pms") == "mysql://pms:p%40ss%3Aword@db.internal:3307/pms_db"
    assert EnvReader({"DATABASE_URL": "sqlite:///x.db", "DB_HOST": "h"}).database_url("pms") == "sqlite:///x.db"


def test_env_file_fills_in_under_the_real_environment(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("APP_PORT=4100\nCRM_WEBHOOK_SECRET=one two\n")
    merged = load_environment("pms_app", {"ENV_FILE": str(env_file), "APP_PORT": "4200"})
    settings = PmsSettings.from_env(merged)
    assert settings.port == 4200
    assert settings.crm_webhook_secrets == ("one", "two")


@pytest.mark.parametrize(
    "name, value",
    [
        ("APP_PORT", "http"),
        ("WEBHOOK_RETRY_SCHEDULE", "5,x"),
        ("DELIVERY_CONCURRENCY", "0"),
        ("DELIVERY_TIMEOUT_SECONDS", "soon"),
    ],
)
def test_bad_values_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        PmsSettings.from_env({"ENV_FILE": "/nonexistent", name: value})


def test_redact_url_hides_the_password():
    assert redact_url("mysql://pms:secret@db:3306/pms_db") == "mysql://pms:***@db:3306/pms_db"
    assert redact_url("sqlite:///data/pms.db") == "sqlite:///data/pms.db"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///data/pms.db",
        "sqlite:////var/lib/guestsync/pms.db",
        "sqlite:///:memory:",
        "mysql://pms:secret@db:3306/pms_db",
        "mysql+pymysql://db/pms_db",
        "mariadb://pms@db/pms_db",
    ],
)
def test_database_urls_the_services_can_open_are_accepted(url):
    assert EnvReader({"DATABASE_URL": url}).database_url("pms") == url


@pytest.mark.parametrize(
    "url", ["postgres://pms:secret@db/pms_db", "pms.db", "sqlite://pms.db", "sqlite:///", "mysql://"]
)
def test_a_database_url_the_services_cannot_open_names_the_variable_without_its_password(url):
    with pytest.raises(ConfigError, match="DATABASE_URL must look like") as raised:
        PmsSettings.from_env({"ENV_FILE": "/nonexistent", "DATABASE_URL": url})
    assert "secret" not in str(raised.value)
