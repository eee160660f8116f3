"""The receiver's checks, in order, each with its status and code, through the real app.

Every rejected request must leave the audit log, profiles and mirror untouched and add exactly
one rejection with the error code as its reason.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from core.signing import keys_from_secrets, signed_headers
from crm_app.models import Event, GuestProfile, Rejection, ReservationMirror
from tests.crm_app.webhook_factory import PLAIN_SECRET, SECRET, Sender, envelope, guest, signed_request
from tests.crm_app.servers import running_app
from tests.support.http import call, json_of


def counts(crm_db) -> dict:
    return crm_db.store.call(
        lambda: {
            "events": Event.select().count(),
            "profiles": GuestProfile.select().count(),
            "mirrors": ReservationMirror.select().count(),
            "rejections": Rejection.select().count(),
        }
    )


def rejections(crm_db) -> list[Rejection]:
    return crm_db.store.call(lambda: list(Rejection.select().order_by(Rejection.id)))


def good_body(webhook_id: str | None = None) -> tuple[str, bytes]:
    webhook_id, body = envelope("guest.created", guest(1), webhook_id)
    return webhook_id, json.dumps(body).encode()


async def assert_rejected(sender, crm_db, body: bytes, headers: dict, status: int, code: str):
    before = counts(crm_db)
    response = await sender.post_raw(body, headers)
    assert response.code == status, response.body
    error = json_of(response)["error"]
    assert error["code"] == code
    assert "Traceback" not in response.body.decode("utf-8", "replace")
    after = counts(crm_db)
    assert after == {**before, "rejections": before["rejections"] + 1}
    last = rejections(crm_db)[-1]
    assert last.reason == code
    assert last.remote_ip == "127.0.0.1"
    return error


@pytest.mark.gen_test
async def test_valid_webhook_is_accepted(sender, crm_db):
    webhook_id, body = good_body()
    response = await sender.post_raw(body, signed_request(body, webhook_id))
    assert response.code == 202, response.body
    assert json_of(response) == {"data": {"status": "accepted", "id": webhook_id}}
    assert counts(crm_db) == {"events": 1, "profiles": 1, "mirrors": 0, "rejections": 0}


@pytest.mark.gen_test
async def test_body_over_the_limit_is_413_before_anything_else(sender, crm_db, crm_settings):
    webhook_id, _ = good_body()
    body = b"{" + b" " * crm_settings.webhook_max_body_bytes + b"}"
    # No signature, no content type: size is checked first.
    await assert_rejected(sender, crm_db, body, {"webhook-id": webhook_id}, 413, "payload_too_large")


@pytest.mark.gen_test
async def test_body_at_the_limit_passes_the_size_check(sender, crm_db, crm_settings):
    webhook_id, _ = good_body()
    body = b"{" + b" " * (crm_settings.webhook_max_body_bytes - 2) + b"}"
    # Exactly at the limit: the next check (signature) decides.
    headers = signed_request(body, webhook_id)
    headers["webhook-signature"] = "v1,AAAA"
    await assert_rejected(sender, crm_db, body, headers, 401, "invalid_signature")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
@pytest.mark.gen_test
async def test_content_type_must_be_json(sender, crm_db, content_type):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id)
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    await assert_rejected(sender, crm_db, body, headers, 415, "unsupported_media_type")


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
@pytest.mark.gen_test
async def test_each_webhook_header_is_required(sender, crm_db, header):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id)
    del headers[header]
    await assert_rejected(sender, crm_db, body, headers, 400, "missing_header")


@pytest.mark.parametrize(
    "timestamp, status, code",
    [
        *[(bad, 400, "missing_header") for bad in ("soon", "12.5", "1e9", "0x10", "")],
        # Any integer is well-formed; one far from the clock fails the tolerance check instead.
        *[(far, 401, "timestamp_out_of_tolerance") for far in ("-5", "+9795966794", "9" * 20)],
    ],
)
@pytest.mark.gen_test
async def test_timestamp_must_be_an_integer(sender, crm_db, timestamp, status, code):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id)
    headers["webhook-timestamp"] = timestamp
    await assert_rejected(sender, crm_db, body, headers, status, code)


# A few seconds past the 1800 s tolerance: the clock moves on between signing and checking.
@pytest.mark.parametrize("offset", [-1805, 1805, -(10**6)])
@pytest.mark.gen_test
async def test_timestamp_outside_tolerance_is_401(sender, crm_db, offset):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id, timestamp=int(time.time()) + offset)
    await assert_rejected(sender, crm_db, body, headers, 401, "timestamp_out_of_tolerance")


@pytest.mark.parametrize("offset", [-1700, 1700])
@pytest.mark.gen_test
async def test_timestamp_inside_tolerance_both_ways_is_accepted(sender, crm_db, offset):
    webhook_id, body = good_body()
    response = await sender.post_raw(body, signed_request(body, webhook_id, timestamp=int(time.time()) + offset))
    assert response.code == 202, response.body


@pytest.mark.parametrize(
    "signature",
    [
        "v1",
        "v1,",
        "v1,a,b",
        "v1,not base64!!",
        "nocomma",
        "v2,{good}",
        ",",
        "v1,AAAA v1",
        "   ",
        "v1,{good}x",
        "v1," + "A" * 5000,
    ],
)
@pytest.mark.gen_test
async def test_malformed_or_wrong_signature_is_401_never_500(sender, crm_db, signature):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id)
    good = headers["webhook-signature"].split(",", 1)[1]
    headers["webhook-signature"] = signature.replace("{good}", good)
    code = "missing_header" if not signature.strip() else "invalid_signature"
    await assert_rejected(sender, crm_db, body, headers, 400 if code == "missing_header" else 401, code)


@pytest.mark.gen_test
async def test_signature_by_an_unknown_secret_is_401(sender, crm_db):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id, secrets=(PLAIN_SECRET,))
    await assert_rejected(sender, crm_db, body, headers, 401, "invalid_signature")


@pytest.mark.gen_test
async def test_tampered_body_is_401(sender, crm_db):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id)
    await assert_rejected(sender, crm_db, body.replace(b"Guest 1", b"Guest 2"), headers, 401, "invalid_signature")


@pytest.mark.gen_test
async def test_replayed_signature_under_another_id_is_401(sender, crm_db):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id)
    headers["webhook-id"] = "another-id"
    await assert_rejected(sender, crm_db, body, headers, 401, "invalid_signature")


def deeply_nested(depth: int) -> bytes:
    return b'{"type":"guest.created","payload":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"type": "guest.created"',
        b"[1, 2]",
        b'"text"',
        b"null",
        b"\xff\xfe{}",
        b'{"a": NaN}',
        deeply_nested(40),
        deeply_nested(40000),
        b'{"a": 1} trailing',
    ],
)
@pytest.mark.gen_test
async def test_signed_body_that_is_not_a_json_object_is_400(sender, crm_db, body):
    # Signed over the exact bytes by the project's signer (standardwebhooks wants text).
    headers = signed_headers(keys_from_secrets((SECRET,)), "wh-1", body)
    await assert_rejected(sender, crm_db, body, headers, 400, "invalid_json")


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b.pop("type"), "type"),
        (lambda b: b.update(type=7), "type"),
        (lambda b: b.pop("payload"), "payload"),
        (lambda b: b.update(payload=[1]), "payload"),
        (lambda b: b.update(timestamp="yesterday"), "timestamp"),
        (lambda b: b.update(idempotency_key="something-else"), "idempotency_key"),
        (lambda b: b["payload"].pop("email"), "payload.email"),
        (lambda b: b["payload"].update(email="not-an-email"), "payload.email"),
        (lambda b: b["payload"].update(version=0), "payload.version"),
        (lambda b: b["payload"].update(id="1"), "payload.id"),
        (lambda b: b["payload"].update(name=""), "payload.name"),
        (lambda b: b["payload"].update(date_of_birth="1980-13-01"), "payload.date_of_birth"),
    ],
)
@pytest.mark.gen_test
async def test_schema_violations_are_422_with_field_details(sender, crm_db, mutate, field):
    webhook_id, body = envelope("guest.created", guest(1))
    mutate(body)
    raw = json.dumps(body).encode()
    error = await assert_rejected(sender, crm_db, raw, signed_request(raw, webhook_id), 422, "validation_error")
    assert field in [d["field"] for d in error["details"]]
    assert all(set(d) == {"field", "message"} for d in error["details"])


@pytest.mark.parametrize(
    "event_type, payload, field",
    [
        (
            "reservation.created",
            {
                "id": 1,
                "guest_id": 1,
                "version": 1,
                "check_in": "2026-03-03",
                "check_out": "2026-03-01",
                "status": "confirmed",
                "total_amount": "1.00",
                "currency": "USD",
            },
            "payload.check_out",
        ),
        (
            "reservation.updated",
            {
                "id": 1,
                "guest_id": 1,
                "version": 2,
                "check_in": "2026-03-01",
                "check_out": "2026-03-03",
                "status": "gone",
                "total_amount": "1.00",
                "currency": "USD",
            },
            "payload.status",
        ),
        (
            "reservation.created",
            {
                "id": 1,
                "guest_id": 1,
                "version": 1,
                "check_in": "2026-03-01",
                "check_out": "2026-03-03",
                "status": "confirmed",
                "total_amount": "-1",
                "currency": "USD",
            },
            "payload.total_amount",
        ),
        ("reservation.deleted", {"id": 1, "version": 3, "deleted_at": "2026-01-01T00:00:00.000Z"}, "payload.guest_id"),
        ("guest.deleted", {"id": 1, "deleted_at": "2026-01-01T00:00:00.000Z"}, "payload.version"),
    ],
)
@pytest.mark.gen_test
async def test_payload_is_validated_per_type(sender, crm_db, event_type, payload, field):
    webhook_id, body = envelope(event_type, payload)
    raw = json.dumps(body).encode()
    error = await assert_rejected(sender, crm_db, raw, signed_request(raw, webhook_id), 422, "validation_error")
    assert field in [d["field"] for d in error["details"]]


@pytest.mark.gen_test
async def test_unknown_type_with_valid_envelope_is_recorded_as_ignored(sender, crm_db, http_client, base_url):
    response = await sender.send("invoice.paid", {"id": 9, "amount": "1.00"})
    assert response.code == 202
    data = json_of(response)["data"]
    assert data["status"] == "ignored"
    assert counts(crm_db) == {"events": 1, "profiles": 0, "mirrors": 0, "rejections": 0}
    listed = json_of(await call(http_client, base_url, "GET", "/api/v1/events?status=ignored"))["data"]
    assert [(e["webhook_id"], e["type"]) for e in listed] == [(data["id"], "invoice.paid")]


@pytest.mark.parametrize("absent", ["missing", "null"])
@pytest.mark.gen_test
async def test_idempotency_key_may_be_absent(sender, crm_db, absent):
    webhook_id, body = envelope("guest.created", guest(1))
    if absent == "missing":
        del body["idempotency_key"]
    else:
        body["idempotency_key"] = None
    raw = json.dumps(body).encode()
    response = await sender.post_raw(raw, signed_request(raw, webhook_id))
    assert response.code == 202, response.body


@pytest.mark.parametrize(
    "raw_payload",
    [
        '{"id": 1, "email": "a@example.com", "name": "\\ud800", "version": 1}',
        '{"id": 1, "email": "a@example.com", "name": "ok", "version": 1, "\\udfff": 1}',
    ],
)
@pytest.mark.gen_test
async def test_unpaired_surrogate_escape_is_invalid_json_not_a_500(sender, crm_db, raw_payload):
    webhook_id = "surrogate-" + str(abs(hash(raw_payload)))
    raw = ('{"type": "guest.created", "timestamp": 1764424800000, "payload": ' + raw_payload + "}").encode()
    await assert_rejected(sender, crm_db, raw, signed_request(raw, webhook_id), 400, "invalid_json")


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1E400", "123456789e99999"])
@pytest.mark.parametrize("event_type", ["invoice.paid", "guest.created"])
@pytest.mark.gen_test
async def test_a_number_that_overflows_to_infinity_is_invalid_json(
    sender, crm_db, http_client, base_url, number, event_type
):
    # An unknown type would be recorded as given, and the audit log would then serve "Infinity".
    webhook_id = f"overflow-{event_type}-{number}"
    payload = json.dumps(guest(1)).replace('"version": 1', f'"version": 1, "amount": {number}')
    raw = f'{{"type": "{event_type}", "timestamp": 1764424800000, "payload": {payload}}}'.encode()
    await assert_rejected(sender, crm_db, raw, signed_request(raw, webhook_id), 400, "invalid_json")
    listed = await call(http_client, base_url, "GET", "/api/v1/events")
    assert json.loads(listed.body, parse_constant=lambda name: pytest.fail(f"{name} served")) == {
        "data": [],
        "next_cursor": None,
    }


@pytest.mark.gen_test
async def test_receiver_ignores_api_token_and_xsrf(crm_db, http_client, crm_settings):
    settings = replace(crm_settings, api_token="t0ken")
    async with running_app(settings, crm_db.store, xsrf_cookies=True) as url:
        response = await Sender(http_client, url).send("guest.created", guest(1))
        assert response.code == 202, response.body
        assert (await call(http_client, url, "GET", "/api/v1/events")).code == 401


@pytest.mark.gen_test
async def test_rejections_are_counted_in_metrics(sender, crm_db, http_client, base_url):
    webhook_id, body = good_body()
    headers = signed_request(body, webhook_id)
    headers["webhook-signature"] = "v1,AAAA"
    await sender.post_raw(body, headers)
    await sender.post_raw(body, headers)
    metrics = (await call(http_client, base_url, "GET", "/metrics")).body.decode()
    assert 'crm_webhook_rejections_total{reason="invalid_signature"} 2.0' in metrics
