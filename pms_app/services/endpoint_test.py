"""``POST /endpoints/:id/test``: one ``endpoint.ping`` event sent to one endpoint at once.

The ping is an event like any other (stored, listed among the endpoint's deliveries, with its
attempt), written straight as a delivery claimed by the request itself, so no worker sends it
too; it goes to that endpoint only and is not retried: the answer is its one attempt, recorded
with ``trigger: "test"``. The send runs on a thread of its own, never on the IOLoop or on a
database thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from core.db import iso, utcnow
from core.signing import keys_from_secrets

from ..delivery.claims import PING, AttemptRecord, Claim
from ..delivery.sender import Sender
from ..delivery.url_safety import IPNetwork
from ..endpoints import secrets
from ..endpoints.models import Endpoint
from ..models import DELIVERING, TEST, Delivery, DeliveryAttempt, OutboxEvent
from ..operators import Actor
from . import audit
from .rows import get_or_404


@dataclass(frozen=True)
class Ping:
    claim: Claim
    url: str
    secrets: tuple[str, ...]
    timeout: float


def prepare(actor: Actor, endpoint_id: int, owner: str, timeout_default: float, lease_seconds: float) -> Ping:
    """Store the ping event and its delivery, claimed by ``owner`` (the request)."""
    endpoint = get_or_404(Endpoint, endpoint_id)
    now = utcnow()
    payload = {"endpoint_id": endpoint.id, "name": endpoint.name, "sent_at": iso(now)}
    event = OutboxEvent.create(
        id=str(uuid.uuid4()),
        type=PING,
        entity_id=endpoint.id,
        entity_version=1,
        payload=payload,
        occurred_at=now,
        created_at=now,
    )
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    delivery = Delivery.create(
        event_seq=event.seq,
        event_id=event.id,
        endpoint_id=endpoint.id,
        type=PING,
        entity_id=endpoint.id,
        entity_version=1,
        status=DELIVERING,
        claimed_by=owner,
        lease_until=lease_until,
        next_attempt_at=now,
        next_trigger=TEST,
        replayed_by=actor.operator,
        created_at=now,
    )
    audit.record(actor, audit.ENDPOINT_TEST, str(endpoint.id), event_id=event.id)
    claim = Claim(delivery.id, event.id, endpoint.id, PING, payload, now, owner, lease_until, 0, TEST, actor.operator)
    return Ping(
        claim,
        endpoint.url,
        tuple(s.secret for s in secrets.valid(endpoint.id)),
        endpoint.timeout_seconds or timeout_default,
    )


def send(ping: Ping, denied: Iterable[IPNetwork] = ()) -> AttemptRecord:
    """The one attempt (blocking: run it on a thread of its own)."""
    if not ping.secrets:
        return AttemptRecord(utcnow(), None, 0, "the endpoint has no valid signing secret", None, False)
    sender = Sender(ping.url, keys_from_secrets(ping.secrets), ping.timeout, denied=denied)
    try:
        return sender.send(ping.claim).record
    finally:
        sender.close()


def attempt_of(ping: Ping) -> dict:
    row = (
        DeliveryAttempt.select()
        .where(DeliveryAttempt.delivery_id == ping.claim.seq)
        .order_by(DeliveryAttempt.id.desc())
        .first()
    )
    return row.to_api()
