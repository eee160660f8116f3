"""The percentile the tests and benchmarks report: the product's own nearest-rank formula, so a
figure a test computes and the one the service shows are the same number."""

from core.stats import percentile

__all__ = ["percentile"]
