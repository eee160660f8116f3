"""The shared reconciliation recipe: bucket bounds, the hash, digests, manifest parameters."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from core.contract import MAX_ID
from core.errors import ValidationError
from core.sync import (
    MANIFEST_DEFAULT_LIMIT,
    MANIFEST_MAX_LIMIT,
    MAX_BUCKETS,
    bucket_bounds,
    bucket_hash,
    digest,
    parse_digest_request,
    parse_manifest_request,
)

ENTRIES = [(1, 1, False), (2, 3, True), (5, 2, False), (9, 1, False), (10, 4, True)]


def test_the_hash_is_sha256_of_the_documented_lines():
    # The vector docs/reconciliation.md gives for other implementations.
    assert bucket_hash([(1, 1, False), (2, 3, True)]) == hashlib.sha256(b"1:1:0\n2:3:1\n").hexdigest()
    assert bucket_hash([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    "from_id, to_id, buckets, expected",
    [
        (1, 10, 2, [(1, 5), (6, 10)]),
        (1, 10, 3, [(1, 4), (5, 8), (9, 10)]),
        (1, 10, 4, [(1, 3), (4, 6), (7, 9), (10, 10)]),
        (1, 10, 6, [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)]),  # at most N buckets, never empty ranges
        (1, 3, 100, [(1, 1), (2, 2), (3, 3)]),
        (7, 7, 1, [(7, 7)]),
        (5, 4, 3, []),
    ],
)
def test_bucket_bounds_cover_the_range_in_equal_widths(from_id, to_id, buckets, expected):
    assert bucket_bounds(from_id, to_id, buckets) == expected


def test_bucket_bounds_over_every_possible_id_stay_few():
    bounds = bucket_bounds(1, MAX_ID, MAX_BUCKETS)
    assert len(bounds) == MAX_BUCKETS
    assert bounds[0][0] == 1 and bounds[-1][1] == MAX_ID
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(bounds))


def test_digest_counts_and_hashes_each_bucket():
    assert digest(ENTRIES, 1, 10, 2) == [
        {"from_id": 1, "to_id": 5, "count": 3, "hash": bucket_hash(ENTRIES[:3])},
        {"from_id": 6, "to_id": 10, "count": 2, "hash": bucket_hash(ENTRIES[3:])},
    ]


def _changed(index: int, **change) -> list:
    entries = [list(e) for e in ENTRIES]
    for key, value in change.items():
        entries[index][("id", "version", "deleted").index(key)] = value
    return [tuple(e) for e in entries]


@pytest.mark.parametrize(
    "other",
    [
        _changed(3, version=2),  # one version differs
        _changed(3, deleted=True),  # one deleted flag differs
        sorted(ENTRIES + [(7, 1, False)]),  # an extra row
        [e for e in ENTRIES if e[0] != 9],  # a missing row
        _changed(3, id=8),  # the same version under another id
    ],
)
def test_digests_differ_exactly_in_the_bucket_that_differs(other):
    ours, theirs = digest(ENTRIES, 1, 10, 2), digest(other, 1, 10, 2)
    assert ours[0] == theirs[0]
    assert ours[1] != theirs[1]


def test_equal_sets_give_equal_digests_whatever_the_bucketing():
    for buckets in (1, 2, 3, 7, 10):
        assert digest(ENTRIES, 1, 10, buckets) == digest(list(ENTRIES), 1, 10, buckets)


def args(**values):
    return lambda name: values.get(name)


def test_digest_parameters_default_and_cap():
    request = parse_digest_request(args(kind="guest"))
    assert (request.from_id, request.to_id, request.buckets) == (1, MAX_ID, 1)
    assert parse_digest_request(args(kind="reservation", buckets="999999")).buckets == MAX_BUCKETS
    # Ids past a BIGINT are clamped like every other id argument, so they simply match nothing.
    assert parse_digest_request(args(kind="guest", to_id="9" * 30)).to_id == MAX_ID


@pytest.mark.parametrize(
    "values, fields",
    [
        ({}, ["kind"]),
        ({"kind": "profile"}, ["kind"]),
        ({"kind": "guest", "from_id": "-1"}, ["from_id"]),
        ({"kind": "guest", "to_id": "ten"}, ["to_id"]),
        ({"kind": "guest", "buckets": "0"}, ["buckets"]),
        ({"kind": "guest", "from_id": "10", "to_id": "9"}, ["to_id"]),
        ({"kind": "x", "buckets": "1.5", "from_id": "a"}, ["kind", "from_id", "buckets"]),  # all at once
    ],
)
def test_bad_digest_parameters_are_named(values, fields):
    with pytest.raises(ValidationError) as caught:
        parse_digest_request(args(**values))
    assert [d["field"] for d in caught.value.details] == fields


def test_manifest_parameters():
    request = parse_manifest_request(args(kind="guest"))
    assert (request.after, request.limit) == (0, MANIFEST_DEFAULT_LIMIT)
    assert parse_manifest_request(args(kind="guest", limit="10000000")).limit == MANIFEST_MAX_LIMIT
    assert parse_manifest_request(args(kind="guest", cursor="41")).after == 41  # next_cursor works as-is
    assert parse_manifest_request(args(kind="guest", after="7", cursor="41")).after == 7
    for bad in ({"kind": "guest", "limit": "0"}, {"kind": "guest", "after": "-3"}, {"kind": ""}):
        with pytest.raises(ValidationError):
            parse_manifest_request(args(**bad))
