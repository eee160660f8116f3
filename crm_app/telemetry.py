"""The CRM's own Prometheus counters: webhooks by outcome and rejections by reason."""

from __future__ import annotations

from core.metrics import Metrics


class WebhookMetrics:
    def __init__(self, metrics: Metrics):
        self.received = metrics.counter(
            "crm_webhooks_received_total", "Webhooks recorded, by answer", ("status",))
        self.rejected = metrics.counter(
            "crm_webhook_rejections_total", "Webhook requests rejected, by reason", ("reason",))
        self.rejections_unrecorded = metrics.counter(
            "crm_webhook_rejections_unrecorded_total",
            "Rejections counted but not written to the rejection list (flood or database down)")
