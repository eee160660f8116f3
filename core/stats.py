"""Summary statistics of measured samples: one percentile formula for the product, its tests and
its benchmarks.

``percentile`` is the nearest-rank percentile: the smallest sample such that at least ``pct``
percent of the samples are at or below it (rank ``ceil(pct / 100 * n)``, 1-based). It is always
one of the samples, never an interpolation between two, so a p99 of 100 samples is the 99th
smallest and p100 is the maximum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], pct: float) -> float:
    """The nearest-rank ``pct`` percentile (0 < pct <= 100) of ``values`` (at least one)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    # Rounded first: 99 / 100 * 100 is 99.00000000000001 in floating point, not rank 99.
    rank = math.ceil(round(pct / 100 * len(ordered), 9))
    return ordered[max(rank, 1) - 1]
