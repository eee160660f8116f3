"""The one percentile formula the tests and benchmarks share (nearest rank)."""

from __future__ import annotations

import pytest

from tests.support.stats import percentile


def test_nearest_rank_is_always_a_sample():
    samples = list(range(1, 101))  # 1..100, given in any order
    shuffled = samples[::2] + samples[1::2]
    assert percentile(shuffled, 50) == 50
    assert percentile(shuffled, 99) == 99  # not 99.01: no interpolation
    assert percentile(shuffled, 100) == 100
    assert percentile(shuffled, 0.5) == 1


def test_small_samples_round_the_rank_up():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # rank ceil(1.5) = 2
    assert percentile([3.0, 1.0, 2.0], 99) == 3.0
    assert percentile([7.0], 1) == 7.0


@pytest.mark.parametrize("values, pct", [([], 50), ([1.0], 0), ([1.0], 101)])
def test_no_samples_or_a_percent_out_of_range_is_refused(values, pct):
    with pytest.raises(ValueError):
        percentile(values, pct)
