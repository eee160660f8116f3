"""``TRUSTED_PROXIES``, ``API_RATE_LIMIT`` and ``CORS_ALLOWED_ORIGINS`` as each service reads them.

A bad value stops the service at start with a ``ConfigError`` naming the variable, instead of
running with a limit or an allow-list other than the one the operator meant.
"""

from __future__ import annotations

import pytest

from core.config import ConfigError
from core.cors import parse_allowed_origins
from core.proxies import TrustedProxies
from core.ratelimit import parse_rate_limit
from crm_app.config import CrmSettings
from dashboard.config import DashboardSettings
from pms_app.config import PmsSettings

API_SERVICES = (PmsSettings, CrmSettings)


def from_env(settings_class, **env: str):
    return settings_class.from_env({"ENV_FILE": "/nonexistent", **env})


@pytest.mark.parametrize(
    "raw, amount, seconds",
    [
        ("100/second", 100, 1),
        ("6000/minute", 6000, 60),
        ("10/5 seconds", 10, 5),
        ("10 per 5 seconds", 10, 5),
        (" 1 / hour ", 1, 3600),
    ],
)
def test_rate_limits_as_operators_write_them(raw, amount, seconds):
    item = parse_rate_limit(raw)
    assert (item.amount, item.get_expiry()) == (amount, seconds)


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "100",
        "0/second",
        "-1/second",
        "10/0 seconds",
        "1/fortnight",
        "1/second;100/minute",
        "1/second, 100/minute",
    ],
)
def test_bad_rate_limits_are_configuration_errors(raw):
    with pytest.raises(ConfigError, match="API_RATE_LIMIT"):
        parse_rate_limit(raw)


def test_origins_are_normalised_and_deduplicated():
    assert parse_allowed_origins(
        "HTTPS://App.Example.com, http://localhost:3000/, https://app.example.com:443, http://[::1]:8080"
    ) == ("https://app.example.com", "http://localhost:3000", "http://[::1]:8080")
    assert parse_allowed_origins(None) == parse_allowed_origins(" , ") == ()


@pytest.mark.parametrize(
    "raw",
    [
        "*",
        "app.example.com",
        "https://app.example.com/path",
        "ftp://app.example.com",
        "https://",
        "https://app.example.com:99999",
        "null",
        "https://user@app.example.com",
        "https://app.example.com?x=1",
    ],
)
def test_malformed_origins_are_configuration_errors(raw):
    with pytest.raises(ConfigError, match="CORS_ALLOWED_ORIGINS"):
        parse_allowed_origins(raw)


@pytest.mark.parametrize("settings_class", API_SERVICES)
def test_api_services_read_all_three(settings_class):
    settings = from_env(
        settings_class,
        TRUSTED_PROXIES="10.0.0.0/8",
        API_RATE_LIMIT="10/5 seconds",
        CORS_ALLOWED_ORIGINS="https://app.example.com",
    )
    assert settings.trusted_proxies == TrustedProxies.parse("10.0.0.0/8")
    assert settings.api_rate_limit == parse_rate_limit("10/5 seconds")
    assert settings.cors_allowed_origins == ("https://app.example.com",)
    default = from_env(settings_class)
    assert (default.trusted_proxies, default.api_rate_limit, default.cors_allowed_origins) == (
        TrustedProxies(),
        None,
        (),
    )


@pytest.mark.parametrize("settings_class", (*API_SERVICES, DashboardSettings))
def test_every_service_refuses_a_bad_trusted_proxies_at_start(settings_class):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        from_env(settings_class, TRUSTED_PROXIES="10.0.0.0/8, proxy.internal")
    assert from_env(settings_class, TRUSTED_PROXIES="192.0.2.1").trusted_proxies.networks


@pytest.mark.parametrize("settings_class", API_SERVICES)
@pytest.mark.parametrize("variable, value", [("API_RATE_LIMIT", "lots"), ("CORS_ALLOWED_ORIGINS", "*")])
def test_api_services_refuse_a_bad_limit_or_origin_at_start(settings_class, variable, value):
    with pytest.raises(ConfigError, match=variable):
        from_env(settings_class, **{variable: value})
