"""The PMS service's settings (docs/configuration.md), read once at start-up and passed to ``make_app``."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from limits import RateLimitItem

from core.config import ConfigError, EnvReader, load_environment
from core.cors import parse_allowed_origins
from core.proxies import TrustedProxies
from core.ratelimit import parse_rate_limit

from .delivery.url_safety import UnsafeUrl, check_configured_url


@dataclass(frozen=True)
class PmsSettings:
    port: int = 4001
    base_path: str = "/api/v1"
    database_url: str = "sqlite:///data/pms.db"
    api_token: str | None = None
    crm_webhook_url: str = "http://localhost:5001/api/v1/webhooks/pms"
    crm_webhook_secrets: tuple[str, ...] = ("supersecret-shared-key",)
    retry_schedule: tuple[int, ...] = (5, 30, 120, 600, 1800, 3600, 10800, 21600)
    endpoint_denied_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    delivery_timeout_seconds: float = 10.0
    delivery_lease_seconds: int = 60
    delivery_concurrency: int = 8
    breaker_failure_threshold: int = 5
    breaker_recovery_seconds: int = 30
    outbox_retention_days: int = 7
    max_body_bytes: int = 1024 * 1024
    db_threads: int = 8
    log_level: str = "INFO"
    access_log_sample: float = 0.1
    trusted_proxies: TrustedProxies = TrustedProxies()
    api_rate_limit: RateLimitItem | None = None
    cors_allowed_origins: tuple[str, ...] = ()
    reconcile_every_seconds: int = 3600
    crm_api_url: str | None = None
    crm_api_token: str | None = None
    # The standalone worker's /metrics, /health and /ready (0: none).
    worker_metrics_port: int = 4002
    # Where traces are exported (OpenTelemetry over OTLP/HTTP); None: not at all.
    otel_exporter_otlp_endpoint: str | None = None

    @property
    def crm_api_base(self) -> str:
        """The CRM API's base URL for reconciliation: ``CRM_API_URL``, else derived from
        ``CRM_WEBHOOK_URL`` (the part before ``/webhooks/pms``, or its origin plus ``/api/v1``)."""
        if self.crm_api_url:
            return self.crm_api_url.rstrip("/")
        parts = urlsplit(self.crm_webhook_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        if path.endswith("/webhooks/pms"):
            return origin + path[: -len("/webhooks/pms")]
        return origin + "/api/v1"

    endpoint_disable_after_hours: float = 120.0
    ops_webhook_url: str | None = None
    ops_webhook_secrets: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PmsSettings:
        env = EnvReader(load_environment("pms_app", environ))
        settings = cls(
            port=env.int("APP_PORT", 4001, minimum=0),
            base_path=(env.str("APP_BASE_PATH", "/api/v1") or "").rstrip("/"),
            database_url=env.database_url("pms"),
            api_token=env.str("API_TOKEN"),
            crm_webhook_url=env.str("CRM_WEBHOOK_URL", cls.crm_webhook_url),
            crm_webhook_secrets=env.words("CRM_WEBHOOK_SECRET", "supersecret-shared-key"),
            endpoint_denied_networks=env.networks("ENDPOINT_DENIED_NETWORKS"),
            retry_schedule=env.int_list("WEBHOOK_RETRY_SCHEDULE", "5,30,120,600,1800,3600,10800,21600"),
            delivery_timeout_seconds=env.float("DELIVERY_TIMEOUT_SECONDS", 10.0, minimum=0.1),
            delivery_lease_seconds=env.int("DELIVERY_LEASE_SECONDS", 60, minimum=1),
            delivery_concurrency=env.int("DELIVERY_CONCURRENCY", 8, minimum=1),
            breaker_failure_threshold=env.int("BREAKER_FAILURE_THRESHOLD", 5, minimum=1),
            breaker_recovery_seconds=env.int("BREAKER_RECOVERY_SECONDS", 30, minimum=0),
            outbox_retention_days=env.int("OUTBOX_RETENTION_DAYS", 7, minimum=0),
            max_body_bytes=env.int("API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            db_threads=env.int("DB_THREADS", 8, minimum=1),
            log_level=env.str("LOG_LEVEL", "INFO"),
            access_log_sample=env.share("ACCESS_LOG_SAMPLE", 0.1),
            trusted_proxies=TrustedProxies.parse(env.str("TRUSTED_PROXIES")),
            api_rate_limit=parse_rate_limit(env.str("API_RATE_LIMIT")),
            cors_allowed_origins=parse_allowed_origins(env.str("CORS_ALLOWED_ORIGINS")),
            reconcile_every_seconds=env.int("RECONCILE_EVERY_SECONDS", 3600, minimum=0),
            crm_api_url=_http_url("CRM_API_URL", env.str("CRM_API_URL")),
            crm_api_token=env.str("CRM_API_TOKEN"),
            endpoint_disable_after_hours=env.float("ENDPOINT_DISABLE_AFTER_HOURS", 120.0, minimum=0.01),
            ops_webhook_url=env.str("OPS_WEBHOOK_URL"),
            ops_webhook_secrets=tuple((env.str("OPS_WEBHOOK_SECRET") or "").split()),
            worker_metrics_port=env.int("WORKER_METRICS_PORT", 4002, minimum=0),
            otel_exporter_otlp_endpoint=env.otlp_endpoint(),
        )
        try:
            # A literal metadata or denied address is a mistake to report now, not at every attempt;
            # a name is checked (resolved) at every attempt instead, since its answers change.
            check_configured_url(settings.crm_webhook_url, settings.endpoint_denied_networks)
        except UnsafeUrl as exc:
            raise ConfigError(f"CRM_WEBHOOK_URL: {exc}") from None
        return settings


def _http_url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as http://crm:5001/api/v1, got {value!r}")
    return value
