"""The endpoint and endpoint_secret tables, and endpoint 1 (``crm``) from the configuration.

Endpoint 1 takes ``CRM_WEBHOOK_URL`` and ``CRM_WEBHOOK_SECRET`` (the service's environment or
its ``.env``), so a deployment that never touches endpoints keeps delivering where it did;
``from_config`` lets each start keep it in step with those variables until someone edits it
through the API.
"""

import peewee as pw
from peewee_migrate import Migrator

from core.db import IdField, JSONTextField, UtcDateTimeField


def _seed_crm_endpoint(database: pw.Database) -> None:
    from pms_app.config import PmsSettings
    from pms_app.endpoints import crm
    from pms_app.models import db

    settings = PmsSettings.from_env()
    db.initialize(database)
    crm.seed(settings.crm_webhook_url, settings.crm_webhook_secrets)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Endpoint(pw.Model):
        id = IdField()
        name = pw.CharField(max_length=64, unique=True)
        url = pw.CharField(max_length=2000)
        description = pw.TextField(null=True)
        event_types = JSONTextField()
        enabled = pw.BooleanField(default=True)
        disabled_reason = pw.CharField(max_length=32, null=True)
        disabled_at = UtcDateTimeField(null=True)
        retry_schedule = JSONTextField(null=True)
        timeout_seconds = pw.FloatField(null=True)
        rate_limit_per_second = pw.FloatField(null=True)
        max_in_flight = pw.IntegerField(null=True)
        breaker_failure_threshold = pw.IntegerField(null=True)
        breaker_recovery_seconds = pw.FloatField(null=True)
        from_config = pw.BooleanField(default=False)
        last_success_at = UtcDateTimeField(null=True)
        last_failure_at = UtcDateTimeField(null=True)
        created_at = UtcDateTimeField()
        updated_at = UtcDateTimeField()

        class Meta:
            table_name = "endpoint"

    @migrator.create_model
    class EndpointSecret(pw.Model):
        id = IdField()
        endpoint = pw.ForeignKeyField(Endpoint, column_name="endpoint_id", on_delete="CASCADE", index=True)
        secret = pw.TextField()
        created_at = UtcDateTimeField()
        expires_at = UtcDateTimeField(null=True)

        class Meta:
            table_name = "endpoint_secret"

    migrator.run(_seed_crm_endpoint, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("endpoint_secret")
    migrator.remove_model("endpoint")
