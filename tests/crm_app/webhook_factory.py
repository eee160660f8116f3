"""Building PMS-shaped events and sending them signed with the ``standardwebhooks`` library.

Signing here deliberately does not use the project's own signer, so the receiver is checked
against an independent implementation of the Standard Webhooks scheme.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
import uuid
from typing import Any

from standardwebhooks import Webhook
from tornado.httpclient import AsyncHTTPClient, HTTPResponse

from crm_app.validation import Incoming, parse_webhook
from tests.support.http import json_of

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PLAIN_SECRET = "supersecret-shared-key"
WEBHOOK_PATH = "/api/v1/webhooks/pms"
_ids = itertools.count(1)


def webhook_for(secret: str) -> Webhook:
    """A standardwebhooks signer for one configured secret (plain secrets are their UTF-8 bytes)."""
    return Webhook(secret) if secret.startswith("whsec_") else Webhook(secret.encode("utf-8"))


def guest(guest_id: int, version: int = 1, **fields: Any) -> dict:
    payload = {
        "id": guest_id,
        "email": f"guest{guest_id}@example.com",
        "name": f"Guest {guest_id}",
        "phone": "+14155550100",
        "date_of_birth": "1980-02-03",
        "country": "PT",
        "version": version,
        "created_at": "2026-01-01T10:00:00.000Z",
        "updated_at": "2026-01-01T10:00:00.000Z",
    }
    payload.update(fields)
    return payload


def reservation(reservation_id: int, guest_id: int, version: int = 1, **fields: Any) -> dict:
    payload = {
        "id": reservation_id,
        "guest_id": guest_id,
        "room_number": "101",
        "room_type": "double",
        "check_in": "2026-03-01",
        "check_out": "2026-03-03",
        "status": "confirmed",
        "total_amount": "240.00",
        "currency": "USD",
        "adults": 2,
        "children": 0,
        "notes": None,
        "version": version,
        "created_at": "2026-01-01T10:00:00.000Z",
        "updated_at": "2026-01-01T10:00:00.000Z",
    }
    payload.update(fields)
    return payload


def deleted(entity_id: int, version: int, **extra: Any) -> dict:
    return {"id": entity_id, "version": version, "deleted_at": "2026-01-02T10:00:00.000Z", **extra}


def envelope(
    event_type: str, payload: dict, webhook_id: str | None = None, occurred_ms: int | None = None
) -> tuple[str, dict]:
    webhook_id = webhook_id or str(uuid.uuid4())
    return webhook_id, {
        "type": event_type,
        "idempotency_key": webhook_id,
        "timestamp": occurred_ms if occurred_ms is not None else 1764424800000 + next(_ids),
        "payload": payload,
    }


def incoming(event_type: str, payload: dict, webhook_id: str | None = None) -> Incoming:
    """A validated event for service-level tests (through the same validation as HTTP)."""
    webhook_id, body = envelope(event_type, payload, webhook_id)
    return parse_webhook(body, webhook_id)


def signed_request(
    body: bytes, webhook_id: str, secrets: tuple[str, ...] = (SECRET,), timestamp: int | None = None
) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    when = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    signatures = " ".join(webhook_for(s).sign(webhook_id, when, body.decode("utf-8")) for s in secrets)
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


class Sender:
    """Posts events to the receiver of the app under test."""

    def __init__(self, client: AsyncHTTPClient, base_url: str):
        self.client = client
        self.base_url = base_url

    async def post_raw(self, body: bytes, headers: dict) -> HTTPResponse:
        return await self.client.fetch(
            self.base_url + WEBHOOK_PATH, method="POST", body=body, headers=headers, raise_error=False
        )

    async def send(
        self, event_type: str, payload: dict, webhook_id: str | None = None, secrets: tuple[str, ...] = (SECRET,)
    ) -> HTTPResponse:
        webhook_id, body = envelope(event_type, payload, webhook_id)
        raw = json.dumps(body).encode()
        return await self.post_raw(raw, signed_request(raw, webhook_id, secrets))

    async def send_ok(self, event_type: str, payload: dict, webhook_id: str | None = None) -> dict:
        response = await self.send(event_type, payload, webhook_id)
        assert response.code in (200, 202), response.body
        return json_of(response)["data"]
