"""Unit tests of guest and reservation validation (no database, no HTTP)."""

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import ValidationError
from pms_app.validation import validate_guest, validate_reservation


def fields_of(exc: ValidationError) -> list[str]:
    return [d["field"] for d in exc.details]


def test_guest_minimal_is_valid_and_unknown_fields_are_dropped():
    values = validate_guest({"email": " ann@example.com ", "name": "Ann", "shoe_size": 42})
    assert values == {"email": "ann@example.com", "name": "Ann"}


def test_guest_missing_required_fields_give_one_detail_each():
    with pytest.raises(ValidationError) as caught:
        validate_guest({})
    assert sorted(fields_of(caught.value)) == ["email", "name"]
    assert all(d["message"] == "is required" for d in caught.value.details)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-email", "name": "A"}, "email"),
        ({"email": 5, "name": "A"}, "email"),
        ({"email": "a@b.co", "name": ""}, "name"),
        ({"email": "a@b.co", "name": "x" * 201}, "name"),
        ({"email": "a@b.co", "name": ["A"]}, "name"),
        ({"email": "a@b.co", "name": "A", "phone": "call me"}, "phone"),
        ({"email": "a@b.co", "name": "A", "phone": "+1"}, "phone"),
        ({"email": "a@b.co", "name": "A", "date_of_birth": "1990-02-30"}, "date_of_birth"),
        ({"email": "a@b.co", "name": "A", "date_of_birth": "yesterday"}, "date_of_birth"),
        ({"email": "a@b.co", "name": "A", "country": "x" * 65}, "country"),
    ],
)
def test_guest_invalid_field_is_named(body, field):
    with pytest.raises(ValidationError) as caught:
        validate_guest(body)
    assert fields_of(caught.value) == [field]


def test_guest_date_of_birth_may_not_be_in_the_future():
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError) as caught:
        validate_guest({"email": "a@b.co", "name": "A", "date_of_birth": tomorrow})
    assert caught.value.details[0]["message"] == "must not be in the future"


def test_guest_partial_update_checks_only_given_fields_and_refuses_null_required():
    assert validate_guest({"phone": "+44 20 7946 0958"}, partial=True) == {"phone": "+44 20 7946 0958"}
    assert validate_guest({"phone": None}, partial=True) == {"phone": None}
    with pytest.raises(ValidationError) as caught:
        validate_guest({"email": None, "name": None}, partial=True)
    assert sorted(fields_of(caught.value)) == ["email", "name"]


def test_reservation_create_defaults_and_cleaning():
    values = validate_reservation(
        {"guest_id": 3, "check_in": "2026-05-01", "check_out": "2026-05-04", "total_amount": "240", "currency": "usd"}
    )
    assert values["check_in"] == dt.date(2026, 5, 1)
    assert values["total_amount"] == Decimal("240.00")
    assert values["currency"] == "USD"
    assert "status" not in values  # the model default (confirmed) applies


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"guest_id": "3"}, "guest_id"),
        ({"guest_id": 0}, "guest_id"),
        ({"check_in": "2026-13-01"}, "check_in"),
        ({"status": "maybe"}, "status"),
        ({"total_amount": "-1"}, "total_amount"),
        ({"total_amount": "1.001"}, "total_amount"),
        ({"total_amount": "NaN"}, "total_amount"),
        ({"total_amount": True}, "total_amount"),
        ({"currency": "dollars"}, "currency"),
        ({"adults": 0}, "adults"),
        ({"adults": 1.5}, "adults"),
        ({"children": -1}, "children"),
    ],
)
def test_reservation_invalid_field_is_named(patch, field):
    body = {"guest_id": 3, "check_in": "2026-05-01", "check_out": "2026-05-04", **patch}
    with pytest.raises(ValidationError) as caught:
        validate_reservation(body)
    assert fields_of(caught.value) == [field]


def test_reservation_check_out_must_follow_check_in_also_on_partial_update():
    with pytest.raises(ValidationError) as caught:
        validate_reservation({"guest_id": 1, "check_in": "2026-05-04", "check_out": "2026-05-04"})
    assert fields_of(caught.value) == ["check_out"]
    current = {"check_in": dt.date(2026, 5, 1), "check_out": dt.date(2026, 5, 4)}
    with pytest.raises(ValidationError):
        validate_reservation({"check_in": "2026-05-09"}, current=current)
    assert validate_reservation({"check_out": "2026-05-09"}, current=current) == {"check_out": dt.date(2026, 5, 9)}


def test_a_stay_is_at_most_ten_years():
    body = {"guest_id": 1, "check_in": "2026-01-01"}
    assert validate_reservation({**body, "check_out": "2036-01-09"})["check_out"] == dt.date(2036, 1, 9)  # 3660 nights
    with pytest.raises(ValidationError) as caught:
        validate_reservation({**body, "check_out": "2036-01-10"})
    assert fields_of(caught.value) == ["check_out"]
    with pytest.raises(ValidationError):
        validate_reservation(
            {"check_out": "9999-12-31"}, current={"check_in": dt.date(1, 1, 1), "check_out": dt.date(1, 1, 2)}
        )


def test_reservation_missing_required_fields():
    with pytest.raises(ValidationError) as caught:
        validate_reservation({})
    assert sorted(fields_of(caught.value)) == ["check_in", "check_out", "guest_id"]
