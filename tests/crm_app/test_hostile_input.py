"""Signed webhooks that used to answer 500 (found by the property tests and the handler review),
through the real app on every backend: 422 now, nothing recorded, and a rejection listed."""

from __future__ import annotations

import pytest

from crm_app.models import Event, GuestProfile, Rejection
from tests.crm_app.webhook_factory import guest, reservation, signed_request
from tests.support.http import call, json_of


def counts(crm_db) -> tuple[int, int, int]:
    return crm_db.store.call(
        lambda: (Event.select().count(), GuestProfile.select().count(), Rejection.select().count())
    )


@pytest.mark.parametrize(
    "event_type, payload, field",
    [
        ("reservation.created", reservation(1, 1, total_amount="1e999999999999999999"), "payload.total_amount"),
        ("reservation.updated", reservation(1, 1, total_amount="-1e999999999999999999"), "payload.total_amount"),
        # "İ" lower-cases to two characters: 212 characters as given, 412 as the profile's email key.
        ("guest.created", guest(1, email="İ" * 200 + "@example.com"), "payload.email"),
        # Stays of thousands of years summed the guest's nights past the CRM's integer column.
        ("reservation.created", reservation(1, 1, check_in="0001-01-01", check_out="9999-12-31"), "payload.check_out"),
    ],
)
@pytest.mark.gen_test
async def test_values_that_cannot_be_stored_are_422_not_500(sender, crm_db, event_type, payload, field):
    response = await sender.send(event_type, payload)
    assert response.code == 422, response.body
    assert [d["field"] for d in json_of(response)["error"]["details"]] == [field]
    assert counts(crm_db) == (0, 0, 1)


@pytest.mark.parametrize("digits", ["9" * 5000, "9" * 20, "1" + "0" * 4400])
@pytest.mark.gen_test
async def test_a_path_id_of_thousands_of_digits_is_404(http_client, base_url, digits):
    # Python refuses to convert more than 4300 digits to an int: that was a 500.
    for path in ("events", "guest-profiles"):
        response = await call(http_client, base_url, "GET", f"/api/v1/{path}/{digits}")
        assert response.code == 404, (path, response.body[:200])
        assert json_of(response)["error"]["code"] == "not_found"


@pytest.mark.gen_test
async def test_a_deeply_nested_signed_body_with_a_surrogate_escape_is_invalid_json(sender, crm_db):
    # The search for unpaired surrogates walked the value recursively: a RecursionError, a 500.
    raw = b'{"type": "x", "payload": ' + b"[" * 900 + b'"\\ud800"' + b"]" * 900 + b"}"
    response = await sender.post_raw(raw, signed_request(raw, "deep-surrogate"))
    assert response.code == 400, response.body[:300]
    assert json_of(response)["error"]["code"] == "invalid_json"
    assert counts(crm_db) == (0, 0, 1)
