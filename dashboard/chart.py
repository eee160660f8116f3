"""Deliveries per minute and their median latency over the last hour, as SVG geometry.

Latency is ``delivered_at - created_at`` of each delivered outbox event (queueing, retries
and the send itself: what a guest change waits before the CRM has it), bucketed by the
minute it was delivered in. ``chart_geometry`` turns the buckets into coordinates the
template draws as inline SVG; no script is needed to see it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import median
from typing import Iterable

WINDOW_MINUTES = 60


def parse_time(value: str | None) -> dt.datetime | None:
    """An ISO-8601 timestamp from the services as an aware UTC datetime (``None`` if absent/bad)."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Minute:
    start: dt.datetime
    count: int
    p50_ms: float | None


def minute_series(deliveries: Iterable[dict], now: dt.datetime,
                  minutes: int = WINDOW_MINUTES) -> tuple[list[Minute], float | None]:
    """One bucket per minute, oldest first, ending with the current (partial) minute, and the
    median latency over the whole window."""
    end = now.replace(second=0, microsecond=0)
    first = end - dt.timedelta(minutes=minutes - 1)
    latencies: list[list[float]] = [[] for _ in range(minutes)]
    for row in deliveries:
        delivered = parse_time(row.get("delivered_at"))
        created = parse_time(row.get("created_at"))
        if delivered is None or created is None or delivered < first:
            continue
        index = int((delivered - first).total_seconds() // 60)
        if 0 <= index < minutes:
            latencies[index].append(max(0.0, (delivered - created).total_seconds() * 1000.0))
    series = [Minute(first + dt.timedelta(minutes=i), len(values), median(values) if values else None)
              for i, values in enumerate(latencies)]
    everything = [v for values in latencies for v in values]
    return series, (median(everything) if everything else None)


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^n at or above ``value`` (axis maximum)."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def format_ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 10_000:
        return f"{value / 1000:.1f} s"
    if value < 120_000:
        return f"{value / 1000:.0f} s"
    return f"{value / 60000:.1f} min"


def chart_geometry(series: list[Minute], p50_ms: float | None = None, width: int = 1100, height: int = 220,
                   pad_left: int = 56, pad_right: int = 64, pad_top: int = 12, pad_bottom: int = 28) -> dict:
    """Bars (count per minute, left axis) and a line (p50 latency, right axis) in SVG units."""
    plot_w = width - pad_left - pad_right
    plot_h = height - pad_top - pad_bottom
    n = max(1, len(series))
    slot = plot_w / n
    max_count = _nice_ceiling(max((m.count for m in series), default=0))
    latencies = [m.p50_ms for m in series if m.p50_ms is not None]
    max_ms = _nice_ceiling(max(latencies, default=0))
    bars, points = [], []
    for i, minute in enumerate(series):
        x = pad_left + i * slot
        h = plot_h * minute.count / max_count
        label = minute.start.strftime("%H:%M") + " UTC"
        bars.append({"x": round(x + slot * 0.15, 1), "y": round(pad_top + plot_h - h, 1),
                     "w": round(slot * 0.7, 1), "h": round(h, 1), "count": minute.count,
                     "p50": format_ms(minute.p50_ms), "label": label})
        if minute.p50_ms is not None:
            points.append((round(x + slot / 2, 1), round(pad_top + plot_h - plot_h * minute.p50_ms / max_ms, 1)))
    total = sum(m.count for m in series)
    ticks = []
    for i in range(0, n, 15):
        ticks.append({"x": round(pad_left + i * slot, 1), "label": series[i].start.strftime("%H:%M")})
    return {
        "width": width, "height": height, "pad_left": pad_left, "pad_top": pad_top,
        "plot_w": plot_w, "plot_h": plot_h, "bottom": pad_top + plot_h, "right": pad_left + plot_w,
        "bars": bars, "line": " ".join(f"{x},{y}" for x, y in points), "dots": points,
        "max_count": int(max_count) if max_count >= 1 else max_count, "max_ms": format_ms(max_ms),
        "ticks": ticks, "total": total,
        "per_minute": round(total / n, 2),
        "p50_all": format_ms(p50_ms),
        "empty": total == 0,
    }
