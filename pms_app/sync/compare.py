"""Finding the entities whose versions differ between the PMS and the CRM, top-down.

The id range ``1..highest PMS id`` is cut into buckets sized to hold about
``TARGET_BUCKET_ROWS`` entities each; both sides digest it, and only buckets whose count or
hash differ are looked at again: a bucket small enough (``LEAF_ROWS``) is listed from both
sides' manifests and diffed entity by entity, a larger one is cut into buckets again. Adjacent
leaf buckets are listed together, so dense drift costs one manifest page per
``MANIFEST_MAX_LIMIT`` entities rather than a request per bucket. Ids above the PMS's highest
can only be entities the PMS never had: one digest of that tail finds them.

Each CRM request runs on a helper thread while the PMS reads the same range, so a run costs
about the slower side, not both. The two reads are therefore not one snapshot: a change
committed in between shows up as a difference, and the repair step (``repair.py``) judges
every difference again on the PMS's state read after all of this. Both sides are ``Side``s: the
CRM over HTTP, the PMS from its database (``StoreSide``), so the walk is the same code
whatever is on either end.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from core.contract import MAX_ID
from core.db import Store
from core.sync import MANIFEST_MAX_LIMIT, MAX_BUCKETS, SyncSource, digest_of, manifest_of

TARGET_BUCKET_ROWS = 1000
LEAF_ROWS = 2000

State = tuple[int, bool]  # (version, deleted) of one entity on one side


class Side(Protocol):
    def digest(self, kind: str, from_id: int, to_id: int, buckets: int) -> list[dict]: ...

    def manifest(self, kind: str, after: int, limit: int) -> tuple[list[dict], str | None]: ...


class StoreSide:
    """A service's digests and manifests read from its own database (no HTTP)."""

    def __init__(self, store: Store, source: SyncSource):
        self.store = store
        self.source = source

    def digest(self, kind: str, from_id: int, to_id: int, buckets: int) -> list[dict]:
        return self.store.call(digest_of, self.source, kind, from_id, to_id, buckets, transaction=False)

    def manifest(self, kind: str, after: int, limit: int) -> tuple[list[dict], str | None]:
        return self.store.call(manifest_of, self.source, kind, after, limit, transaction=False)


@dataclass(frozen=True)
class Difference:
    id: int
    pms: State | None
    crm: State | None


@dataclass
class Comparison:
    kind: str
    compared: int = 0
    differences: list[Difference] = field(default_factory=list)


def buckets_for(rows: int, minimum: int = 1) -> int:
    return max(minimum, min(MAX_BUCKETS, -(-rows // TARGET_BUCKET_ROWS)))


class Walk:
    def __init__(self, kind: str, pms: Side, crm: Side, keep_alive: Callable[[], None]):
        self.kind = kind
        self.pms = pms
        self.crm = crm
        self.keep_alive = keep_alive
        self.result = Comparison(kind)
        self.leaves: list[tuple[int, int, int, int]] = []  # (from, to, crm count, pms count)
        self.helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-crm")

    def run(self, pms_max_id: int) -> Comparison:
        try:
            if pms_max_id < MAX_ID:
                (tail,) = self.crm.digest(self.kind, pms_max_id + 1, MAX_ID, 1)
                if tail["count"]:
                    self.leaves.append((pms_max_id + 1, MAX_ID, tail["count"], 0))
            if pms_max_id >= 1:
                self.descend(1, pms_max_id, buckets_for(pms_max_id))
            for lo, hi, crm_count, pms_count in merge_adjacent(self.leaves):
                self.diff(lo, hi, crm_count, pms_count)
        finally:
            self.helper.shutdown(wait=True)
        return self.result

    def both(self, crm_call: Callable, pms_call: Callable):
        """``(crm_call(), pms_call())``, the CRM's request running while the PMS reads."""
        pending = self.helper.submit(crm_call)
        try:
            pms = pms_call()
        finally:
            crm = pending.result()
        return crm, pms

    def descend(self, from_id: int, to_id: int, buckets: int) -> None:
        self.keep_alive()
        crm, pms = self.both(
            lambda: self.crm.digest(self.kind, from_id, to_id, buckets),
            lambda: self.pms.digest(self.kind, from_id, to_id, buckets),
        )
        for c, p in zip(crm, pms, strict=True):
            if c["count"] == p["count"] and c["hash"] == p["hash"]:
                self.result.compared += p["count"]
                continue
            rows = max(c["count"], p["count"])
            if rows <= LEAF_ROWS or p["from_id"] == p["to_id"]:
                self.leaves.append((p["from_id"], p["to_id"], c["count"], p["count"]))
            else:
                self.descend(p["from_id"], p["to_id"], buckets_for(rows, minimum=2))

    def diff(self, from_id: int, to_id: int, crm_count: int, pms_count: int) -> None:
        crm, pms = self.both(
            lambda: self.listing(self.crm, from_id, to_id, crm_count),
            lambda: self.listing(self.pms, from_id, to_id, pms_count),
        )
        for entity_id in sorted(crm.keys() | pms.keys()):
            self.result.compared += 1
            if crm.get(entity_id) != pms.get(entity_id):
                self.result.differences.append(Difference(entity_id, pms.get(entity_id), crm.get(entity_id)))

    def listing(self, side: Side, from_id: int, to_id: int, expected: int) -> dict[int, State]:
        """Every entry of ``side`` in ``[from_id, to_id]``, paging its manifest; each page asks
        for one row more than is left, so the page that ends the range usually proves it."""
        found: dict[int, State] = {}
        after = from_id - 1
        while True:
            self.keep_alive()
            limit = min(MANIFEST_MAX_LIMIT, max(expected - len(found), 0) + 1)
            rows, cursor = side.manifest(self.kind, after, limit)
            for row in rows:
                if row["id"] > to_id:
                    return found
                found[row["id"]] = (row["version"], row["deleted"])
            if cursor is None or not rows:
                return found
            after = rows[-1]["id"]


def merge_adjacent(leaves: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Leaf ranges in id order, touching ones joined (their counts added)."""
    merged: list[tuple[int, int, int, int]] = []
    for lo, hi, crm_count, pms_count in sorted(leaves):
        if merged and merged[-1][1] + 1 == lo:
            plo, _, pc, pp = merged[-1]
            merged[-1] = (plo, hi, pc + crm_count, pp + pms_count)
        else:
            merged.append((lo, hi, crm_count, pms_count))
    return merged


def compare(
    kind: str, pms: Side, crm: Side, pms_max_id: int, keep_alive: Callable[[], None] = lambda: None
) -> Comparison:
    """Every entity of ``kind`` whose ``(version, deleted)`` differs between the two sides,
    and how many entities were compared. ``keep_alive`` is called before each request."""
    return Walk(kind, pms, crm, keep_alive).run(pms_max_id)
