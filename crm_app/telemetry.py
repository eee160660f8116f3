"""The CRM's own Prometheus counters: webhooks by outcome and rejections by reason."""

from __future__ import annotations

from core.metrics import Children, Metrics


class WebhookMetrics:
    def __init__(self, metrics: Metrics):
        self.received = metrics.counter("crm_webhooks_received_total", "Webhooks recorded, by answer", ("status",))
        self.rejected = metrics.counter(
            "crm_webhook_rejections_total", "Webhook requests rejected, by reason", ("reason",)
        )
        # Answers and reasons are a handful of fixed codes: one child each, looked up once.
        self.received_as = Children(self.received)
        self.rejected_for = Children(self.rejected)
        self.rejections_unrecorded = metrics.counter(
            "crm_webhook_rejections_unrecorded_total",
            "Rejections counted but not written to the rejection list (flood or database down)",
        )
