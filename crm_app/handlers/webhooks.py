"""``POST /webhooks/pms``: the signed webhook receiver (its checks in the order docs/receiver.md gives).

The checks run in the documented order and the first failure answers; a rejected
request is counted and listed (batched, so a flood of forged requests costs one small insert
per batch, not one transaction each) and changes nothing else. A verified, valid webhook goes
to the group committer, which records and applies it in one transaction.

Every answer gets a log line naming the webhook (``webhook_id``, from the header when it came
with one) and its outcome; the JSON line carries the ``trace_id`` of the ``traceparent`` the
sender sent, which the audit entry keeps too.
"""

from __future__ import annotations

import logging

from core.db import utcnow
from core.errors import ApiError, InvalidJSONError
from core.handlers import APIHandler
from core.jsonio import parse_json
from core.signing import VerificationError, verify
from core.tracing import trace_var

from ..batching import Overloaded
from ..services.receiver import DUPLICATE
from ..services.rejections import rejection_row
from ..validation import MAX_JSON_DEPTH, check_depth, parse_webhook

log = logging.getLogger("guestsync.crm.webhooks")


def verification_error(exc: VerificationError) -> ApiError:
    status = 400 if exc.code == "missing_header" else 401
    return ApiError(str(exc), status=status, code=exc.code)


class WebhookHandler(APIHandler):
    """Exempt from API_TOKEN (it has its own signature), from XSRF (it is not a form) and from
    API_RATE_LIMIT (the PMS's delivery pace is governed by its own retries and breaker)."""

    requires_auth = False
    rate_limited = False
    refuses_cross_site_writes = False
    route_name = "webhook"

    def check_xsrf_cookie(self) -> None:
        return None

    @property
    def max_body_bytes(self) -> int:
        return self.config.webhook_max_body_bytes

    async def prepare(self) -> None:
        try:
            super().prepare()
        except ApiError as exc:
            await self.reject(exc)
            raise

    def read_webhook(self):
        body = self.body  # 413
        self.check_json_content_type(required=True)  # 415
        try:  # 400 missing_header, 401s
            meta = verify(
                self.settings["webhook_keys"], self.request.headers, body, self.config.webhook_max_skew_seconds
            )
        except VerificationError as exc:
            raise verification_error(exc) from None
        data = parse_json(body)  # 400 invalid_json
        if not isinstance(data, dict):
            raise InvalidJSONError("the body must be a JSON object")
        if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH:  # else it cannot nest that deep
            check_depth(data)
        trace = trace_var.get()
        return parse_webhook(
            data,
            meta.msg_id,  # 422
            trace.trace_id if trace is not None else None,
        )

    async def post(self) -> None:
        try:
            incoming = self.read_webhook()
        except ApiError as exc:
            await self.reject(exc)
            raise
        outcome = await self.settings["receiver"].submit(incoming)
        self.settings["webhook_metrics"].received_as(outcome.status).inc()
        # One line per webhook, kept short (the id is a field): the receiver serves thousands a second.
        log.info(
            "webhook %s",
            outcome.status,
            extra={"webhook_id": outcome.id, "outcome": outcome.status, "event_type": incoming.type},
        )
        self.write_data({"status": outcome.status, "id": outcome.id}, 200 if outcome.status == DUPLICATE else 202)

    async def reject(self, exc: ApiError) -> None:
        """Count the rejection and add it to the list; never let recording change the answer."""
        metrics = self.settings["webhook_metrics"]
        metrics.rejected_for(exc.code).inc()
        webhook_id = self.request.headers.get("webhook-id")
        # The header is the client's: a forged one may be kilobytes long; the log keeps what an
        # id can be.
        log.warning(
            "webhook %s rejected: %s",
            webhook_id or "without an id",
            exc.code,
            extra={
                "webhook_id": webhook_id[:255] if webhook_id else None,
                "outcome": "rejected",
                "reason": exc.code,
                "remote_ip": self.request.remote_ip,
            },
        )
        row = rejection_row(exc.code, self.request.remote_ip, webhook_id, utcnow())
        try:
            await self.settings["rejection_log"].submit(row)
        except Overloaded:
            metrics.rejections_unrecorded.inc()
        except Exception as exc2:  # noqa: BLE001 - the 4xx answer stands even if the list is down
            metrics.rejections_unrecorded.inc()
            log.warning("could not record a rejection: %s", exc2)


default_handlers = [
    (r"/webhooks/pms", WebhookHandler),
]
