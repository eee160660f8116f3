"""The reconciliation recipe both services share: digests and manifests of entity versions.

Owns, once for both services: the entity kinds, the hash recipe, how an id range is cut into
buckets, the digest of a run of entries, manifest pages, and the validation of their query
parameters. docs/reconciliation.md documents the recipe for other implementations.

An *entry* is ``(id, version, deleted)``: one entity a service holds, live or as a tombstone.
Each service supplies a ``SyncSource`` that reads its entries of one kind in ascending id order
from indexes on ``(id, version)`` only, so the cost of a digest or a manifest page follows the
rows in its range, never the size of the audit log or the outbox.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import peewee

from .contract import MAX_ID
from .db import read_snapshot
from .errors import ValidationError
from .pagination import parse_non_negative_int

KINDS = ("guest", "reservation")
# A digest never has more buckets than this: more is refused by being capped.
MAX_BUCKETS = 1024
# Manifests are a machine feed read in bulk, so their pages are larger than other lists'.
MANIFEST_DEFAULT_LIMIT = 1000
MANIFEST_MAX_LIMIT = 10000

Entry = tuple[int, int, bool]  # (id, version, deleted)


class SyncSource(Protocol):
    """What a service supplies: its entries of one kind, from its own tables."""

    database: peewee.Database

    def entries(self, kind: str, from_id: int, to_id: int, limit: int | None = None) -> list[Entry]:
        """Entries with ``from_id <= id <= to_id`` in ascending id order, at most ``limit``.
        Called inside a read snapshot of ``database``."""


# -- the recipe ------------------------------------------------------------------------------


def entry_line(entity_id: int, version: int, deleted: bool) -> str:
    """One entry as it is hashed: ``"<id>:<version>:<1 if deleted else 0>\\n"``."""
    return f"{entity_id}:{version}:{1 if deleted else 0}\n"


def bucket_hash(entries: Iterable[Entry]) -> str:
    """Lower-case hex SHA-256 of the entries' lines (ascending id), concatenated, in ASCII.
    An empty bucket hashes the empty string."""
    return hashlib.sha256("".join(entry_line(*e) for e in entries).encode("ascii")).hexdigest()


def bucket_width(from_id: int, to_id: int, buckets: int) -> int:
    span = to_id - from_id + 1
    return max(1, -(-span // max(1, buckets)))  # ceiling division


def bucket_bounds(from_id: int, to_id: int, buckets: int) -> list[tuple[int, int]]:
    """``[from_id, to_id]`` cut into at most ``buckets`` consecutive ranges of equal width
    (``ceil(span / buckets)`` ids; the last one may be narrower), inclusive bounds."""
    if to_id < from_id:
        return []
    width = bucket_width(from_id, to_id, buckets)
    return [(lo, min(lo + width - 1, to_id)) for lo in range(from_id, to_id + 1, width)]


def digest(entries: Iterable[Entry], from_id: int, to_id: int, buckets: int) -> list[dict]:
    """``[{"from_id", "to_id", "count", "hash"}]`` for every bucket, empty ones included."""
    bounds = bucket_bounds(from_id, to_id, buckets)
    width = bucket_width(from_id, to_id, buckets)
    grouped: list[list[Entry]] = [[] for _ in bounds]
    for entry in entries:
        grouped[(entry[0] - from_id) // width].append(entry)
    return [
        {"from_id": lo, "to_id": hi, "count": len(rows), "hash": bucket_hash(rows)}
        for (lo, hi), rows in zip(bounds, grouped, strict=True)
    ]


def manifest_row(entry: Entry) -> dict:
    entity_id, version, deleted = entry
    return {"id": entity_id, "version": version, "deleted": bool(deleted)}


# -- reading a source --------------------------------------------------------------------------


def digest_of(source: SyncSource, kind: str, from_id: int, to_id: int, buckets: int) -> list[dict]:
    """The digest of ``source``'s entries in one consistent snapshot (run it outside any other
    transaction: ``store.call(..., transaction=False)``)."""
    with read_snapshot(source.database):
        return digest(source.entries(kind, from_id, to_id), from_id, to_id, buckets)


def manifest_of(source: SyncSource, kind: str, after: int, limit: int) -> tuple[list[dict], str | None]:
    """One manifest page: entries with ids above ``after``, ascending, and the next cursor
    (the last id as a string, to pass as ``after``), ``None`` on the last page."""
    if after >= MAX_ID:
        return [], None
    with read_snapshot(source.database):
        rows = source.entries(kind, after + 1, MAX_ID, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [manifest_row(e) for e in rows], (str(rows[-1][0]) if more else None)


# -- query parameters --------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestRequest:
    kind: str
    from_id: int = 1
    to_id: int = MAX_ID
    buckets: int = 1


@dataclass(frozen=True)
class ManifestRequest:
    kind: str
    after: int = 0
    limit: int = MANIFEST_DEFAULT_LIMIT


Getter = Callable[[str], "str | None"]


class _Params:
    """Reads query arguments, collecting one 422 detail per bad one."""

    def __init__(self, get: Getter):
        self.get = get
        self.details: list[dict] = []

    def kind(self) -> str:
        raw = self.get("kind")
        if raw in KINDS:
            return raw
        message = "is required" if raw in (None, "") else f"must be one of {', '.join(KINDS)}"
        self.details.append({"field": "kind", "message": message})
        return KINDS[0]

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = parse_non_negative_int(name, raw)
        except ValidationError as exc:
            self.details.extend(exc.details)
            return default
        if value < minimum:
            self.details.append({"field": name, "message": f"must be at least {minimum}"})
            return default
        return value

    def raise_if_invalid(self) -> None:
        if self.details:
            raise ValidationError(self.details)


def parse_digest_request(get: Getter) -> DigestRequest:
    """``kind`` (required), ``from_id`` (default 1), ``to_id`` (default the largest id),
    ``buckets`` (default 1, at least 1, capped at ``MAX_BUCKETS``); 422 with every bad field."""
    params = _Params(get)
    kind = params.kind()
    from_id = params.integer("from_id", 1)
    to_id = params.integer("to_id", MAX_ID)
    buckets = params.integer("buckets", 1, minimum=1)
    if not params.details and to_id < from_id:
        params.details.append({"field": "to_id", "message": "must not be less than from_id"})
    params.raise_if_invalid()
    return DigestRequest(kind, from_id, to_id, min(buckets, MAX_BUCKETS))


def parse_manifest_request(get: Getter) -> ManifestRequest:
    """``kind`` (required), ``after`` (default 0; ``cursor`` is accepted as its synonym, so a
    list client that follows ``next_cursor`` works), ``limit`` (default 1000, at least 1,
    capped at ``MANIFEST_MAX_LIMIT``); 422 with every bad field."""
    params = _Params(get)
    kind = params.kind()
    after_name = "after" if get("after") not in (None, "") else "cursor"
    after = params.integer(after_name, 0)
    limit = params.integer("limit", MANIFEST_DEFAULT_LIMIT, minimum=1)
    params.raise_if_invalid()
    return ManifestRequest(kind, after, min(limit, MANIFEST_MAX_LIMIT))
