"""Helpers shared by the tests and the benchmarks (bench/ imports them through bench/_path.py):
processes and ports, databases, statistics, fake receivers and HTTP calls. See docs/development.md."""
