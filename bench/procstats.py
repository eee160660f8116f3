"""What a benchmark reads about the processes it started: CPU time so far and peak resident memory.

Both come from ``/proc`` (Linux), so a process must be read before it exits: ``peak_rss_mb``
is its high-water mark (``VmHWM``), the most memory it ever held resident, which is what the
"every process under 120 MB" target is about. Elsewhere both answer ``None``.
"""

from __future__ import annotations

import os
from pathlib import Path

RSS_TARGET_MB = 120


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float | None:
    """The most resident memory the process has held so far, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


class PeakRss:
    """Peak RSS per process label over a benchmark (a label seen twice keeps its larger peak),
    printed beside the target."""

    def __init__(self):
        self.peaks: dict[str, float] = {}

    def record(self, label: str, pid: int) -> None:
        value = peak_rss_mb(pid)
        if value is not None:
            self.peaks[label] = max(value, self.peaks.get(label, 0.0))

    def report(self) -> dict:
        return {
            "peak_rss_mb": dict(sorted(self.peaks.items())),
            "target_mb": RSS_TARGET_MB,
            "all_within_target": all(v <= RSS_TARGET_MB for v in self.peaks.values()),
        }
