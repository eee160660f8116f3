"""The CRM service's settings (docs/configuration.md), read once at start-up and passed to ``make_app``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem

from core.config import ConfigError, EnvReader, load_environment
from core.cors import parse_allowed_origins
from core.proxies import TrustedProxies
from core.ratelimit import parse_rate_limit
from core.signing import keys_from_secrets


@dataclass(frozen=True)
class CrmSettings:
    port: int = 5001
    base_path: str = "/api/v1"
    database_url: str = "sqlite:///data/crm.db"
    api_token: str | None = None
    webhook_secrets: tuple[str, ...] = ("supersecret-shared-key",)
    webhook_max_skew_seconds: int = 1800
    webhook_max_body_bytes: int = 262144
    max_body_bytes: int = 1024 * 1024
    db_threads: int = 8
    receiver_batch_max: int = 64
    receiver_writers: int = 1
    log_level: str = "INFO"
    access_log_sample: float = 0.1
    trusted_proxies: TrustedProxies = TrustedProxies()
    api_rate_limit: RateLimitItem | None = None
    cors_allowed_origins: tuple[str, ...] = ()
    # Where traces are exported (OpenTelemetry over OTLP/HTTP); None: not at all.
    otel_exporter_otlp_endpoint: str | None = None

    @property
    def webhook_keys(self) -> tuple[bytes, ...]:
        """The HMAC keys of the accepted secrets (``whsec_`` ones base64-decoded)."""
        return keys_from_secrets(self.webhook_secrets)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CrmSettings:
        env = EnvReader(load_environment("crm_app", environ))
        settings = cls(
            port=env.int("APP_PORT", 5001, minimum=0),
            base_path=(env.str("APP_BASE_PATH", "/api/v1") or "").rstrip("/"),
            database_url=env.database_url("crm"),
            api_token=env.str("API_TOKEN"),
            webhook_secrets=env.words("WEBHOOK_SHARED_SECRET", "supersecret-shared-key"),
            webhook_max_skew_seconds=env.int("WEBHOOK_MAX_SKEW_SECONDS", 1800, minimum=0),
            webhook_max_body_bytes=env.int("WEBHOOK_MAX_BODY_BYTES", 262144, minimum=1),
            max_body_bytes=env.int("API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            db_threads=env.int("DB_THREADS", 8, minimum=1),
            receiver_batch_max=env.int("RECEIVER_BATCH_MAX", 64, minimum=1),
            receiver_writers=env.int("RECEIVER_WRITERS", 1, minimum=1),
            log_level=env.str("LOG_LEVEL", "INFO"),
            access_log_sample=env.share("ACCESS_LOG_SAMPLE", 0.1),
            trusted_proxies=TrustedProxies.parse(env.str("TRUSTED_PROXIES")),
            api_rate_limit=parse_rate_limit(env.str("API_RATE_LIMIT")),
            cors_allowed_origins=parse_allowed_origins(env.str("CORS_ALLOWED_ORIGINS")),
            otel_exporter_otlp_endpoint=env.otlp_endpoint(),
        )
        try:
            keys_from_secrets(settings.webhook_secrets)
        except ValueError as exc:
            raise ConfigError(f"WEBHOOK_SHARED_SECRET: {exc}") from None
        return settings
