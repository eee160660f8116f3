"""The delivery log: one line per attempt and per send the breaker held back, each naming the
webhook (``webhook_id``), its endpoint (``endpoint``: the name, ``endpoint_id``) and its trace
(``trace_id``) as fields of the JSON line, so one webhook can be followed from here into the
receiver's log.

Levels: a delivered attempt, a failure that will be retried and a held-back send are ``info``;
giving up on a delivery (its retries exhausted, or the endpoint answered 410 Gone) is a
``warning``, since somebody has to replay it.
"""

from __future__ import annotations

import datetime as dt
import logging

from core.db import iso
from core.tracing import TraceContext

from .claims import AttemptRecord, Claim
from .sender import attempt_trace

log = logging.getLogger("guestsync.delivery")


def _fields(claim: Claim, endpoint: str, trace: TraceContext | None) -> dict:
    # Without an attempt there is no span, but the trace is known all the same.
    trace_id = (trace or attempt_trace(claim)).trace_id
    return {
        "webhook_id": claim.id,
        "endpoint": endpoint,
        "endpoint_id": claim.endpoint_id,
        "event_type": claim.type,
        "delivery_id": claim.seq,
        "trace_id": trace_id,
    }


def attempt_made(
    claim: Claim,
    endpoint: str,
    trace: TraceContext,
    record: AttemptRecord,
    next_attempt_at: dt.datetime | None,
    gone: bool = False,
) -> None:
    """The line of one attempt: delivered, failed with a retry scheduled, or given up."""
    fields = _fields(claim, endpoint, trace)
    fields.update(status_code=record.status_code, duration_ms=record.duration_ms)
    if record.ok:
        fields["outcome"] = "delivered"
        log.info("webhook %s delivered to %s", claim.id, endpoint, extra=fields)
        return
    fields["error"] = record.error
    if next_attempt_at is not None:
        fields["outcome"] = "retry"
        fields["next_attempt_at"] = iso(next_attempt_at)
        log.info(
            "webhook %s to %s failed (%s): retry at %s",
            claim.id,
            endpoint,
            record.error,
            fields["next_attempt_at"],
            extra=fields,
        )
        return
    fields["outcome"] = "held" if gone else "failed"
    reason = "the endpoint is gone, held until it is enabled" if gone else "no retries left"
    log.warning("giving up on webhook %s to %s (%s): %s", claim.id, endpoint, record.error, reason, extra=fields)


def held_back(claim: Claim, endpoint: str, reason: str) -> None:
    """A claimed send that was not made (the breaker opened meanwhile, or the worker is
    stopping): no attempt, the delivery waits for the next claim."""
    fields = _fields(claim, endpoint, None)
    fields["outcome"] = "held_back"
    log.info("webhook %s to %s held back: %s", claim.id, endpoint, reason, extra=fields)


def unexpected(claim: Claim, endpoint: str) -> None:
    """An attempt that broke inside the worker itself (logged with its traceback)."""
    log.exception(
        "delivering webhook %s to %s failed unexpectedly; it goes back to the queue",
        claim.id,
        endpoint,
        extra=_fields(claim, endpoint, None),
    )
