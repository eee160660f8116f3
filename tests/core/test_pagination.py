"""Cursor encoding and list arguments."""

import pytest

from core.errors import ValidationError
from core.pagination import MAX_LIMIT, decode_cursor, encode_cursor, parse_page_request


def args(**values):
    return lambda name: values.get(name)


def test_cursor_round_trip_and_opacity():
    cursor = encode_cursor(1234, ascending=False)
    assert "1234" not in cursor
    assert decode_cursor(cursor) == (1234, False)
    assert decode_cursor(encode_cursor(7, ascending=True)) == (7, True)


@pytest.mark.parametrize("cursor", ["", "%%%", "eDox", encode_cursor(1, True)[:-1] + "!"])
def test_foreign_cursors_are_a_422(cursor):
    with pytest.raises(ValidationError):
        decode_cursor(cursor or "x")


def test_limit_defaults_caps_and_rejects():
    assert parse_page_request(args()).limit == 50
    assert parse_page_request(args(limit="501")).limit == MAX_LIMIT
    for bad in ("-1", "0", "1.5", "ten"):
        with pytest.raises(ValidationError):
            parse_page_request(args(limit=bad))


def test_since_id_is_ascending_and_cursor_wins():
    page = parse_page_request(args(since_id="10"))
    assert (page.after_id, page.ascending) == (10, True)
    page = parse_page_request(args(since_id="10", cursor=encode_cursor(3, False)))
    assert (page.after_id, page.ascending) == (3, False)


def test_integers_past_a_bigint_are_clamped():
    assert parse_page_request(args(limit="9" * 40)).limit == MAX_LIMIT
    assert parse_page_request(args(since_id="9" * 40)).after_id == 2**63 - 1
    for bad in ("٣", "1_000", "+5"):
        with pytest.raises(ValidationError):
            parse_page_request(args(limit=bad))
