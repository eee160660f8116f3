"""Configuration loading shared by every service.

Each service defines a frozen dataclass of its settings with a ``from_env`` classmethod built
from the readers here. Values come from the process environment first, then from the
service's ``.env`` file, then from the defaults documented in docs/configuration.md. Settings objects are passed to
``make_app(settings)``; nothing reads the environment after start-up.
"""

from __future__ import annotations

import builtins
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import overload
from urllib.parse import quote

from dotenv import dotenv_values

REPO_ROOT = Path(__file__).resolve().parent.parent


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A configuration value is present but unusable (the message names the variable)."""


def load_environment(service: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Merge the service's ``.env`` file (``<service>/.env`` or ``ENV_FILE``) under the real environment."""
    environ = dict(os.environ if environ is None else environ)
    env_file = environ.get("ENV_FILE") or str(REPO_ROOT / service / ".env")
    merged: dict[str, str] = {}
    if os.path.isfile(env_file):
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(environ)
    return merged


class EnvReader:
    """Typed access to one merged environment, raising ``ConfigError`` naming the variable.

    The readers are named after the types they return, so inside this class the built-in types
    are spelled ``builtins.str`` and so on.
    """

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    @overload
    def str(self, name: builtins.str) -> builtins.str | None: ...
    @overload
    def str(self, name: builtins.str, default: builtins.str) -> builtins.str: ...
    @overload
    def str(self, name: builtins.str, default: builtins.str | None) -> builtins.str | None: ...

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str | None:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def int(self, name: builtins.str, default: builtins.int, minimum: builtins.int | None = None) -> builtins.int:
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value

    def float(
        self, name: builtins.str, default: builtins.float, minimum: builtins.float | None = None
    ) -> builtins.float:
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value

    def share(self, name: builtins.str, default: builtins.float) -> builtins.float:
        """A fraction from 0 to 1 (both included); anything else, ``nan`` too, is an error."""
        value = self.float(name, default)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{name} must be between 0 and 1, got {value}")
        return value

    def words(self, name: builtins.str, default: builtins.str) -> tuple[builtins.str, ...]:
        """A space-separated list (secrets, for example)."""
        return tuple((self.str(name) or default).split())

    def int_list(self, name: builtins.str, default: builtins.str) -> tuple[builtins.int, ...]:
        raw = self.str(name) or default
        try:
            values = tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
        except ValueError:
            raise ConfigError(f"{name} must be comma-separated integers, got {raw!r}") from None
        if any(v < 0 for v in values):
            raise ConfigError(f"{name} must not contain negative values")
        return values

    def otlp_endpoint(self) -> builtins.str | None:
        """``OTEL_EXPORTER_OTLP_ENDPOINT``: the OpenTelemetry collector's base http(s) URL, or
        ``None`` (traces are not exported)."""
        value = self.str("OTEL_EXPORTER_OTLP_ENDPOINT")
        if value is None:
            return None
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
            raise ConfigError(
                f"OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://otel-collector:4318, got {value!r}"
            )
        return value

    def networks(self, name: builtins.str) -> tuple[Network, ...]:
        """Comma-separated CIDRs (see ``parse_networks``)."""
        return parse_networks(self.str(name), name)

    def database_url(self, default_sqlite_name: builtins.str) -> builtins.str:
        """``DATABASE_URL``, else a MySQL URL from ``DB_*`` when ``DB_HOST`` is set, else SQLite."""
        url = self.str("DATABASE_URL")
        if url:
            return check_database_url(url)
        host = self.str("DB_HOST")
        if host:
            user = quote(self.str("DB_USER", "root") or "root", safe="")
            password = self.str("DB_PASS")
            auth = f"{user}:{quote(password, safe='')}" if password else user
            port = self.int("DB_PORT", 3306)
            name = self.str("DB_NAME", default_sqlite_name)
            return f"mysql://{auth}@{host}:{port}/{name}"
        return f"sqlite:///data/{default_sqlite_name}.db"


DATABASE_URL_FORMS = "sqlite:///relative/path.db, sqlite:////absolute/path.db or mysql://user:pass@host:3306/name"


def check_database_url(url: str) -> str:
    """``url`` when the services can open it; else a ``ConfigError`` naming ``DATABASE_URL``.

    Checked with the other settings so that a typo stops every command (``migrate`` included)
    with one line naming the variable, instead of a traceback from deep inside the database
    layer. The message shows the URL with its password hidden.
    """
    scheme, separator, rest = url.partition("://")
    scheme = scheme.split("+")[0].lower()
    if separator and scheme == "sqlite" and rest.startswith("/") and rest.strip("/"):
        return url
    if separator and scheme in ("mysql", "mariadb") and rest:
        return url
    raise ConfigError(f"DATABASE_URL must look like {DATABASE_URL_FORMS}, got {redact_url(url)!r}")


def parse_networks(raw: str | None, variable: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (``10.0.0.0/8, fd00::/8``); a bare address is a one-address network.

    Host bits set (``10.1.2.3/8``) are an error rather than silently widened: the operator may
    have meant the one address or the whole network, and only they know which. The
    ``ConfigError`` names ``variable``."""
    networks = []
    for part in (raw or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=True))
        except ValueError as exc:
            raise ConfigError(
                f"{variable} must be comma-separated CIDRs such as 10.0.0.0/8 or 192.0.2.7, got {part!r}: {exc}"
            ) from None
    return tuple(networks)


def redact_url(url: str) -> str:
    """The database URL with its password hidden, for logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
