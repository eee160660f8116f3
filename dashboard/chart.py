"""The overview's chart: delivery attempts per minute (delivered and failed) and their latency
(p50 and p95) over the last hour, as SVG geometry.

The points come from the PMS's endpoint health (``overall.minutes``): per minute, the attempts
that succeeded, those that failed, and the nearest-rank p50/p95 of their durations (the time
each endpoint took to answer). ``chart_geometry`` turns them into coordinates the template draws
as inline SVG, so the chart is there without any script; the live feed then sends the changed
minutes as ``chart`` messages and static/dashboard.js redraws the same shapes from the same
layout (``layout`` is handed to it with the points).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from collections.abc import Iterable

WINDOW_MINUTES = 60

LAYOUT = {"width": 1100, "height": 220, "pad_left": 56, "pad_right": 64, "pad_top": 12, "pad_bottom": 28}


def parse_time(value: str | None) -> dt.datetime | None:
    """An ISO-8601 timestamp from the services as an aware UTC datetime (``None`` if absent/bad)."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def nice_ceiling(value: float) -> float:
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
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "–"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 10_000:
        return f"{value / 1000:.1f} s"
    if value < 120_000:
        return f"{value / 1000:.0f} s"
    return f"{value / 60000:.1f} min"


def chart_point(minute: dict) -> dict:
    """One minute as the chart (and the ``chart`` message) carries it."""

    def count(name: str) -> int:
        value = minute.get(name)
        return value if isinstance(value, int) and value >= 0 else 0

    def ms(name: str) -> float | None:
        value = minute.get(name)
        return value if isinstance(value, (int, float)) and value >= 0 else None

    return {
        "at": str(minute.get("at") or ""),
        "delivered": count("delivered"),
        "failed": count("failed"),
        "p50_ms": ms("p50_ms"),
        "p95_ms": ms("p95_ms"),
    }


def chart_points(minutes: Iterable[dict] | None) -> list[dict]:
    return [chart_point(m) for m in minutes or [] if isinstance(m, dict)][-WINDOW_MINUTES:]


def _line(coords: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in coords)


def chart_geometry(points: list[dict], layout: dict[str, int] | None = None) -> dict[str, Any]:
    """Stacked bars (delivered, then failed on top; left axis) and two lines (p50, p95 latency;
    right axis) in SVG units, one slot per minute."""
    lay = {**LAYOUT, **(layout or {})}
    plot_w = lay["width"] - lay["pad_left"] - lay["pad_right"]
    plot_h = lay["height"] - lay["pad_top"] - lay["pad_bottom"]
    bottom = lay["pad_top"] + plot_h
    n = max(1, len(points))
    slot = plot_w / n
    max_count = nice_ceiling(max((p["delivered"] + p["failed"] for p in points), default=0))
    max_ms = nice_ceiling(max((p["p95_ms"] or p["p50_ms"] or 0 for p in points), default=0))
    bars, p50, p95 = [], [], []
    for i, point in enumerate(points):
        x = lay["pad_left"] + i * slot
        ok_h = plot_h * point["delivered"] / max_count
        bad_h = plot_h * point["failed"] / max_count
        start = parse_time(point["at"])
        label = start.strftime("%H:%M") + " UTC" if start else point["at"]
        bars.append(
            {
                "x": round(x + slot * 0.15, 1),
                "w": round(slot * 0.7, 1),
                "label": label,
                "at": point["at"],
                "delivered": point["delivered"],
                "failed": point["failed"],
                "ok_y": round(bottom - ok_h, 1),
                "ok_h": round(ok_h, 1),
                "bad_y": round(bottom - ok_h - bad_h, 1),
                "bad_h": round(bad_h, 1),
                "p50": format_ms(point["p50_ms"]),
                "p95": format_ms(point["p95_ms"]),
            }
        )
        centre = round(x + slot / 2, 1)
        if point["p50_ms"] is not None:
            p50.append((centre, round(bottom - plot_h * point["p50_ms"] / max_ms, 1)))
        if point["p95_ms"] is not None:
            p95.append((centre, round(bottom - plot_h * point["p95_ms"] / max_ms, 1)))
    ticks = []
    for i in range(0, len(points), 15):
        start = parse_time(points[i]["at"])
        ticks.append({"x": round(lay["pad_left"] + i * slot, 1), "label": start.strftime("%H:%M") if start else ""})
    delivered = sum(p["delivered"] for p in points)
    failed = sum(p["failed"] for p in points)
    return {
        **lay,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "bottom": bottom,
        "right": lay["pad_left"] + plot_w,
        "bars": bars,
        "p50_line": _line(p50),
        "p95_line": _line(p95),
        "max_count": int(max_count) if max_count >= 1 else max_count,
        "max_ms": format_ms(max_ms),
        "ticks": ticks,
        "delivered": delivered,
        "failed": failed,
        "empty": delivered + failed == 0,
    }
