"""The PMS service's settings (SPEC s2), read once at start-up and passed to ``make_app``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from limits import RateLimitItem

from core.config import EnvReader, load_environment
from core.cors import parse_allowed_origins
from core.proxies import TrustedProxies
from core.ratelimit import parse_rate_limit


@dataclass(frozen=True)
class PmsSettings:
    port: int = 4001
    base_path: str = "/api/v1"
    database_url: str = "sqlite:///data/pms.db"
    api_token: str | None = None
    crm_webhook_url: str = "http://localhost:5001/api/v1/webhooks/pms"
    crm_webhook_secrets: tuple[str, ...] = ("supersecret-shared-key",)
    retry_schedule: tuple[int, ...] = (5, 30, 120, 600, 1800, 3600, 10800, 21600)
    delivery_timeout_seconds: float = 10.0
    delivery_lease_seconds: int = 60
    delivery_concurrency: int = 8
    breaker_failure_threshold: int = 5
    breaker_recovery_seconds: int = 30
    outbox_retention_days: int = 7
    max_body_bytes: int = 1024 * 1024
    db_threads: int = 8
    log_level: str = "INFO"
    trusted_proxies: TrustedProxies = TrustedProxies()
    api_rate_limit: RateLimitItem | None = None
    cors_allowed_origins: tuple[str, ...] = ()
    endpoint_disable_after_hours: float = 120.0
    ops_webhook_url: str | None = None
    ops_webhook_secrets: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "PmsSettings":
        env = EnvReader(load_environment("pms_app", environ))
        return cls(
            port=env.int("APP_PORT", 4001, minimum=0),
            base_path=(env.str("APP_BASE_PATH", "/api/v1") or "").rstrip("/"),
            database_url=env.database_url("pms"),
            api_token=env.str("API_TOKEN"),
            crm_webhook_url=env.str("CRM_WEBHOOK_URL", cls.crm_webhook_url),
            crm_webhook_secrets=env.words("CRM_WEBHOOK_SECRET", "supersecret-shared-key"),
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
            trusted_proxies=TrustedProxies.parse(env.str("TRUSTED_PROXIES")),
            api_rate_limit=parse_rate_limit(env.str("API_RATE_LIMIT")),
            cors_allowed_origins=parse_allowed_origins(env.str("CORS_ALLOWED_ORIGINS")),
            endpoint_disable_after_hours=env.float("ENDPOINT_DISABLE_AFTER_HOURS", 120.0, minimum=0.01),
            ops_webhook_url=env.str("OPS_WEBHOOK_URL"),
            ops_webhook_secrets=tuple((env.str("OPS_WEBHOOK_SECRET") or "").split()),
        )
