"""core.signing against the published Standard Webhooks vector, the reference library, and
malformed headers (which must be narrow errors, never anything else)."""

from __future__ import annotations

import datetime as dt

import pytest
from standardwebhooks import Webhook

from core.signing import (
    InvalidSignatureError,
    MissingHeaderError,
    TimestampOutOfToleranceError,
    VerificationError,
    compute_signature,
    keys_from_secrets,
    secret_to_key,
    sign,
    signed_headers,
    verify,
)

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
KEY = secret_to_key(VECTOR_SECRET)


def headers(signature: str = VECTOR_SIGNATURE, msg_id: str = VECTOR_ID, ts: str = str(VECTOR_TS)) -> dict:
    return {"webhook-id": msg_id, "webhook-timestamp": ts, "webhook-signature": signature}


def test_published_vector_signs_exactly():
    assert sign([KEY], VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE


def test_published_vector_verifies():
    meta = verify([KEY], headers(), VECTOR_BODY, tolerance_seconds=300, now=VECTOR_TS + 10)
    assert (meta.msg_id, meta.timestamp) == (VECTOR_ID, VECTOR_TS)


def test_reference_library_agrees_both_ways():
    reference = Webhook(VECTOR_SECRET)
    when = dt.datetime.fromtimestamp(VECTOR_TS, dt.UTC)
    assert reference.sign(VECTOR_ID, when, VECTOR_BODY.decode()) == VECTOR_SIGNATURE
    now = int(dt.datetime.now(dt.UTC).timestamp())
    produced = signed_headers([KEY], "msg_2", b'{"a": 1}', timestamp=now)
    assert reference.verify(b'{"a": 1}', produced) == {"a": 1}


def test_plain_secret_is_its_utf8_bytes():
    assert secret_to_key("supersecret-shared-key") == b"supersecret-shared-key"
    reference = Webhook(b"supersecret-shared-key")
    when = dt.datetime.fromtimestamp(VECTOR_TS, dt.UTC)
    assert reference.sign("id", when, "{}") == sign([b"supersecret-shared-key"], "id", VECTOR_TS, b"{}")


def test_invalid_whsec_secret_is_a_configuration_error():
    with pytest.raises(ValueError):
        secret_to_key("whsec_***not base64***")
    with pytest.raises(ValueError):
        keys_from_secrets([])


def test_any_of_several_secrets_verifies_any_of_several_signatures():
    old, new = b"old-key", KEY
    header = sign([b"unrelated", new], VECTOR_ID, VECTOR_TS, VECTOR_BODY)
    assert len(header.split()) == 2
    verify([old, new], headers(header), VECTOR_BODY, 300, now=VECTOR_TS)
    with pytest.raises(InvalidSignatureError):
        verify([old], headers(header), VECTOR_BODY, 300, now=VECTOR_TS)


@pytest.mark.parametrize(
    "signature",
    [
        "v1",
        "v1,",
        "v1,a,b",
        "v1,@@@@",
        "nocomma",
        "v2," + VECTOR_SIGNATURE[3:],
        ",",
        "v1,=",
        "v1," + VECTOR_SIGNATURE[3:-2],
        VECTOR_SIGNATURE + "AA",
        "v1,\u00e9t\u00e9",
    ],
)
def test_malformed_signature_headers_are_invalid_signature(signature):
    with pytest.raises(InvalidSignatureError) as info:
        verify([KEY], headers(signature), VECTOR_BODY, 300, now=VECTOR_TS)
    assert info.value.code == "invalid_signature"


def test_a_malformed_entry_does_not_hide_a_good_one():
    meta = verify([KEY], headers("v1,a,b " + VECTOR_SIGNATURE + " v1"), VECTOR_BODY, 300, now=VECTOR_TS)
    assert (meta.msg_id, meta.timestamp) == (VECTOR_ID, VECTOR_TS)


@pytest.mark.parametrize(
    "changes",
    [
        {"signature": ""},
        {"msg_id": ""},
        {"ts": ""},
        {"ts": "12a"},
        {"ts": "1.5"},
        {"ts": "1e9"},
        {"ts": "9" * 21},
    ],
)
def test_missing_or_non_integer_headers(changes):
    with pytest.raises(MissingHeaderError) as info:
        verify([KEY], headers(**changes), VECTOR_BODY, 300, now=VECTOR_TS)
    assert info.value.code == "missing_header"


@pytest.mark.parametrize("skew", [-301, 301])
def test_timestamp_tolerance_both_directions(skew):
    with pytest.raises(TimestampOutOfToleranceError) as info:
        verify([KEY], headers(), VECTOR_BODY, 300, now=VECTOR_TS + skew)
    assert info.value.code == "timestamp_out_of_tolerance"
    verify([KEY], headers(), VECTOR_BODY, 301, now=VECTOR_TS + skew)


@pytest.mark.parametrize("ts", ["-1", "+1", "9" * 13])
def test_any_integer_timestamp_is_well_formed_and_judged_by_tolerance(ts):
    with pytest.raises(TimestampOutOfToleranceError):
        verify([KEY], headers(ts=ts), VECTOR_BODY, 300, now=VECTOR_TS)


def test_timestamp_is_checked_before_the_signature():
    with pytest.raises(TimestampOutOfToleranceError):
        verify([KEY], headers("v1,AAAA"), VECTOR_BODY, 300, now=VECTOR_TS + 10_000)


def test_body_and_id_are_covered_by_the_signature():
    with pytest.raises(InvalidSignatureError):
        verify([KEY], headers(), VECTOR_BODY + b" ", 300, now=VECTOR_TS)
    with pytest.raises(InvalidSignatureError):
        verify([KEY], headers(msg_id="msg_other"), VECTOR_BODY, 300, now=VECTOR_TS)


def test_errors_are_narrow_subclasses():
    for error in (MissingHeaderError, TimestampOutOfToleranceError, InvalidSignatureError):
        assert issubclass(error, VerificationError)
    assert compute_signature(KEY, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE[3:]
