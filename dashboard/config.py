"""The dashboard's settings (docs/configuration.md), read once at start-up and passed to ``make_app``.

The login token comes from ``DASHBOARD_TOKEN``; when it is unset a random one is generated
(``token_generated`` tells the entry point to print it). Nothing here is ever rendered.
``DASHBOARD_USERS_FILE`` names the operators file; a relative path is taken from the
repository root, so the dashboard and ``python -m dashboard users`` agree from any directory.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping

from core.config import REPO_ROOT, ConfigError, EnvReader, load_environment
from core.proxies import TrustedProxies

API_PREFIX = "/api/v1"
DEFAULT_USERS_FILE = "dashboard/users.txt"


def users_file_path(value: str | None) -> Path:
    path = Path(value or DEFAULT_USERS_FILE).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def _origin(env: EnvReader, name: str, default: str) -> str:
    value = (env.str(name, default) or default).rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http:// or https:// origin, got {value!r}")
    return value


@dataclass(frozen=True)
class DashboardSettings:
    port: int = 8080
    pms_url: str = "http://localhost:4001"
    crm_url: str = "http://localhost:5001"
    pms_api_token: str | None = field(default=None, repr=False)
    crm_api_token: str | None = field(default=None, repr=False)
    poll_seconds: float = 1.0
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    token_generated: bool = False
    users_file: Path = field(default_factory=lambda: users_file_path(None))
    # Sessions end after this much time without a page request, and this long after sign-in.
    session_idle_seconds: float = 12 * 3600
    session_max_seconds: float = 7 * 86400
    request_timeout_seconds: float = 5.0
    # Live feed tuning (optional settings; docs/configuration.md).
    live_linger_seconds: float = 30.0
    client_queue_size: int = 1000
    log_level: str = "INFO"
    trusted_proxies: TrustedProxies = TrustedProxies()

    @property
    def pms_api(self) -> str:
        return self.pms_url + API_PREFIX

    @property
    def crm_api(self) -> str:
        return self.crm_url + API_PREFIX

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DashboardSettings:
        env = EnvReader(load_environment("dashboard", environ))
        token = env.str("DASHBOARD_TOKEN")
        generated = token is None
        return cls(
            port=env.int("APP_PORT", 8080, minimum=0),
            pms_url=_origin(env, "PMS_URL", "http://localhost:4001"),
            crm_url=_origin(env, "CRM_URL", "http://localhost:5001"),
            pms_api_token=env.str("PMS_API_TOKEN"),
            crm_api_token=env.str("CRM_API_TOKEN"),
            poll_seconds=env.float("DASHBOARD_POLL_SECONDS", 1.0, minimum=0.05),
            token=token or secrets.token_urlsafe(24),
            token_generated=generated,
            users_file=users_file_path(env.str("DASHBOARD_USERS_FILE")),
            session_idle_seconds=3600 * env.float("DASHBOARD_SESSION_IDLE_HOURS", 12.0, minimum=0.01),
            session_max_seconds=86400 * env.float("DASHBOARD_SESSION_MAX_DAYS", 7.0, minimum=0.01),
            request_timeout_seconds=env.float("DASHBOARD_REQUEST_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            live_linger_seconds=env.float("DASHBOARD_LIVE_LINGER_SECONDS", 30.0, minimum=0),
            client_queue_size=env.int("DASHBOARD_CLIENT_QUEUE", 1000, minimum=1),
            log_level=env.str("LOG_LEVEL", "INFO"),
            trusted_proxies=TrustedProxies.parse(env.str("TRUSTED_PROXIES")),
        )
