"""Input that used to answer 500 (found by the property tests and the handler review), each
through the real app on every backend: the documented 4xx now, and nothing written."""

from __future__ import annotations

import pytest

from tests.pms_app.helpers import create_guest, reservation_body
from tests.support.http import call, json_of

API = "/api/v1"


def error_fields(response) -> list[str]:
    return [d["field"] for d in json_of(response)["error"]["details"]]


@pytest.mark.parametrize("amount", ["1e999999999999999999", "-1e999999999999999999", 1e308])
@pytest.mark.gen_test
async def test_an_amount_past_what_a_decimal_can_hold_is_422(http_client, base_url, amount):
    guest = await create_guest(http_client, base_url)
    response = await call(
        http_client, base_url, "POST", f"{API}/reservations", reservation_body(guest["id"], total_amount=amount)
    )
    assert response.code == 422, response.body
    assert error_fields(response) == ["total_amount"]


@pytest.mark.gen_test
async def test_an_amount_of_zero_with_a_huge_exponent_is_zero(http_client, base_url):
    guest = await create_guest(http_client, base_url)
    response = await call(
        http_client,
        base_url,
        "POST",
        f"{API}/reservations",
        reservation_body(guest["id"], total_amount="0e999999999999999999"),
    )
    assert response.code == 201, response.body
    assert json_of(response)["data"]["total_amount"] == "0.00"


@pytest.mark.gen_test
async def test_an_email_whose_lower_case_outgrows_the_column_is_422(http_client, base_url):
    # "İ" lower-cases to two characters: 212 characters as given, 412 as the unique key.
    email = "İ" * 200 + "@example.com"
    response = await call(http_client, base_url, "POST", f"{API}/guests", {"email": email, "name": "Dotted"})
    assert response.code == 422, response.body
    assert error_fields(response) == ["email"]
    guest = await create_guest(http_client, base_url)
    response = await call(http_client, base_url, "PUT", f"{API}/guests/{guest['id']}", {"email": email})
    assert response.code == 422, response.body
    listed = json_of(await call(http_client, base_url, "GET", f"{API}/guests"))["data"]
    assert [g["id"] for g in listed] == [guest["id"]]


@pytest.mark.parametrize("digits", ["9" * 5000, "9" * 20, "1" + "0" * 4400])
@pytest.mark.gen_test
async def test_a_path_id_of_thousands_of_digits_is_404(http_client, base_url, digits):
    # Python refuses to convert more than 4300 digits to an int: that was a 500.
    for method, path in (
        ("GET", "guests"),
        ("PUT", "guests"),
        ("DELETE", "guests"),
        ("GET", "reservations"),
        ("PUT", "reservations"),
        ("DELETE", "reservations"),
    ):
        body = {"name": "X"} if method == "PUT" else None
        response = await call(http_client, base_url, method, f"{API}/{path}/{digits}", body)
        assert response.code == 404, (method, path, response.body[:200])
        assert json_of(response)["error"]["code"] == "not_found"


@pytest.mark.gen_test
async def test_a_path_id_with_leading_zeros_is_the_same_id(http_client, base_url):
    guest = await create_guest(http_client, base_url)
    response = await call(http_client, base_url, "GET", f"{API}/guests/{'0' * 30}{guest['id']}")
    assert response.code == 200
    assert json_of(response)["data"]["id"] == guest["id"]


@pytest.mark.parametrize("depth", [400, 600, 900, 990])
@pytest.mark.gen_test
async def test_a_deeply_nested_body_with_a_surrogate_escape_is_invalid_json(http_client, base_url, depth):
    # The search for unpaired surrogates walked the value recursively: a RecursionError, a 500.
    raw = b'{"name": ' + b"[" * depth + b'"\\ud800"' + b"]" * depth + b"}"
    response = await call(
        http_client, base_url, "POST", f"{API}/guests", raw=raw, headers={"Content-Type": "application/json"}
    )
    assert response.code == 400, response.body[:300]
    assert json_of(response)["error"]["code"] == "invalid_json"
