"""The last-hour chart's numbers and the template filters' output."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup

from dashboard.chart import chart_geometry, format_ms, minute_series, parse_time
from dashboard.views import badge, money, status_class, time_tag

NOW = dt.datetime(2026, 11, 29, 12, 30, 20, tzinfo=dt.UTC)


def delivered(created: str, done: str) -> dict:
    return {"created_at": created, "delivered_at": done}


def test_minute_buckets_count_deliveries_and_take_the_median_latency():
    rows = [
        delivered("2026-11-29T12:29:59.000Z", "2026-11-29T12:30:00.000Z"),   # 1 s, this minute
        delivered("2026-11-29T12:29:57.000Z", "2026-11-29T12:30:00.000Z"),   # 3 s, this minute
        delivered("2026-11-29T12:29:50.000Z", "2026-11-29T12:30:00.000Z"),   # 10 s, this minute
        delivered("2026-11-29T12:00:00.000Z", "2026-11-29T12:00:00.500Z"),   # 0.5 s, 30 minutes ago
        delivered("2026-11-29T11:00:00.000Z", "2026-11-29T11:20:00.000Z"),   # older than the hour
        {"created_at": "2026-11-29T12:10:00Z", "delivered_at": None},       # not delivered
    ]
    series, p50 = minute_series(rows, NOW)
    assert len(series) == 60
    assert series[-1].start == dt.datetime(2026, 11, 29, 12, 30, tzinfo=dt.UTC)
    assert series[-1].count == 3 and series[-1].p50_ms == 3000
    assert series[-31].count == 1 and series[-31].p50_ms == 500
    assert sum(m.count for m in series) == 4
    assert p50 == 2000  # median of 500, 1000, 3000, 10000


def test_geometry_scales_bars_and_line_to_the_plot():
    rows = [delivered("2026-11-29T12:29:00Z", "2026-11-29T12:30:01Z")] * 4   # 61 s each, this minute
    series, p50 = minute_series(rows, NOW)
    chart = chart_geometry(series, p50, width=1100, height=220, pad_left=56, pad_right=64, pad_top=12, pad_bottom=28)
    assert chart["plot_h"] == 180 and chart["plot_w"] == 980
    assert chart["max_count"] == 5                          # 4 rounded up to a readable axis
    last = chart["bars"][-1]
    assert last["count"] == 4 and last["h"] == 144.0 and last["y"] == 12 + 180 - 144.0
    assert all(bar["h"] == 0 for bar in chart["bars"][:-1])
    assert chart["dots"] == [(round(56 + 59.5 * 980 / 60, 1), round(12 + 180 - 180 * 61000 / 100000, 1))]
    assert chart["max_ms"] == "100 s" and chart["p50_all"] == "61 s"
    assert chart["total"] == 4 and chart["per_minute"] == 0.07 and not chart["empty"]


def test_empty_hour_is_flagged():
    series, p50 = minute_series([], NOW)
    chart = chart_geometry(series, p50)
    assert chart["empty"] and chart["line"] == "" and chart["p50_all"] == "–"


def test_format_ms():
    assert format_ms(12.4) == "12 ms"
    assert format_ms(2500) == "2.5 s"
    assert format_ms(61_000) == "61 s"
    assert format_ms(180_000) == "3.0 min"
    assert format_ms(None) == "–"


def test_parse_time_accepts_z_and_rejects_junk():
    assert parse_time("2026-11-29T12:00:00.123Z").microsecond == 123000
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


def test_status_colours_mean_the_same_everywhere():
    assert status_class("delivered") == status_class("processed") == status_class("closed") == "st-good"
    assert status_class("pending") == status_class("delivering") == "st-active"
    assert status_class("failed") == status_class("rejected") == status_class("open") == "st-bad"
    assert status_class("half_open") == "st-warn"
    assert status_class("stale") == status_class("ignored") == status_class("something new") == "st-muted"


def test_badge_and_time_escape_what_they_are_given():
    html = str(badge("<script>x</script>"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    tag = time_tag("2026-11-29T12:00:00.5Z")
    assert isinstance(tag, Markup)
    assert 'datetime="2026-11-29T12:00:00.500Z"' in tag and "2026-11-29 12:00:00 UTC" in tag
    assert "&lt;b&gt;" in str(time_tag("<b>"))


def test_money_lists_every_currency():
    assert money({"USD": "480.00", "EUR": "12.00"}) == "12.00 EUR · 480.00 USD"
    assert money({}) == "–"
