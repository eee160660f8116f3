"""Unit tests of the CRM's pure logic: payload validation, nesting limit, stats and tiers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.errors import InvalidJSONError, ValidationError
from crm_app.services.stats import stored_stats, tier_for
from crm_app.validation import check_depth, parse_webhook
from tests.crm_app.webhook_factory import deleted, envelope, guest, reservation


def fields(exc: ValidationError) -> set[str]:
    return {d["field"] for d in exc.details}


def test_known_types_yield_cleaned_values():
    webhook_id, body = envelope("reservation.created", reservation(3, 4, total_amount="12.5"))
    parsed = parse_webhook(body, webhook_id)
    assert parsed.known and parsed.values["total_amount"] == Decimal("12.50")
    assert parsed.values["check_in"] == dt.date(2026, 3, 1)
    assert parsed.payload == body["payload"]
    webhook_id, body = envelope("reservation.deleted", deleted(3, 2, guest_id=4), occurred_ms=1000)
    parsed = parse_webhook(body, webhook_id)
    assert parsed.values == {"id": 3, "version": 2, "deleted_at": "2026-01-02T10:00:00.000Z", "guest_id": 4}
    assert parsed.occurred_at == dt.datetime(1970, 1, 1, 0, 0, 1)


def test_unknown_type_keeps_any_payload_object():
    webhook_id, body = envelope("folio.closed", {"anything": [1, 2]})
    parsed = parse_webhook(body, webhook_id)
    assert not parsed.known and parsed.type == "folio.closed"


def test_every_bad_field_is_reported_at_once():
    webhook_id, body = envelope("guest.updated", guest(1, email="x", version=-1, country="C" * 65))
    body["idempotency_key"] = "other"
    with pytest.raises(ValidationError) as info:
        parse_webhook(body, webhook_id)
    assert fields(info.value) == {"idempotency_key", "payload.email", "payload.version", "payload.country"}


@pytest.mark.parametrize("timestamp", [None, -1, 10**16, True, 1.5])
def test_body_timestamp_must_be_milliseconds(timestamp):
    webhook_id, body = envelope("guest.created", guest(1))
    body["timestamp"] = timestamp
    with pytest.raises(ValidationError) as info:
        parse_webhook(body, webhook_id)
    assert fields(info.value) == {"timestamp"}


def test_overlong_webhook_id_is_a_validation_error():
    webhook_id, body = envelope("guest.created", guest(1), webhook_id="w" * 256)
    with pytest.raises(ValidationError) as info:
        parse_webhook(body, webhook_id)
    assert "webhook-id" in fields(info.value)


def test_nesting_limit():
    shallow: dict = {}
    node = shallow
    for _ in range(30):
        node["a"] = {}
        node = node["a"]
    check_depth(shallow)
    node["a"] = [[[[{}]]]]
    with pytest.raises(InvalidJSONError):
        check_depth(shallow)


@pytest.mark.parametrize(
    "reservations, nights, tier",
    [
        (0, 0, "new"),
        (1, 29, "new"),
        (2, 0, "returning"),
        (9, 29, "returning"),
        (10, 0, "vip"),
        (1, 30, "vip"),
    ],
)
def test_tier_rules(reservations, nights, tier):
    assert tier_for(reservations, nights) == tier


def stay(check_in: str, check_out: str, amount: str, currency: str = "USD", status: str = "confirmed"):
    return SimpleNamespace(
        check_in=dt.date.fromisoformat(check_in),
        check_out=dt.date.fromisoformat(check_out),
        total_amount=Decimal(amount),
        currency=currency,
        status=status,
    )


def test_stored_stats_by_hand():
    result = stored_stats(
        [
            stay("2026-01-01", "2026-01-04", "100.10"),
            stay("2026-02-01", "2026-02-02", "0.90"),
            stay("2025-12-01", "2025-12-31", "99.99", currency="EUR"),
            stay("2024-01-01", "2024-03-01", "5000.00", status="cancelled"),
        ]
    )
    assert result == {
        "total_reservations": 3,
        "cancelled_reservations": 1,
        "total_nights": 34,
        "lifetime_value": {"EUR": "99.99", "USD": "101.00"},
        "first_check_in": dt.date(2025, 12, 1),
        "last_check_out": dt.date(2026, 2, 2),
        "tier": "vip",
    }
