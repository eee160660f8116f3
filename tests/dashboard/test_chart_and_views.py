"""The last-hour chart's numbers and the template filters' output."""

from __future__ import annotations

import datetime as dt
import json

from markupsafe import Markup

from dashboard.chart import chart_geometry, chart_points, format_ms, parse_time
from dashboard.contract import BREAKER_STATES, BROWSER_JSON, STATUS_CLASSES, TIER_CLASSES
from dashboard.views import age, age_text, badge, money, percent, status_class, time_tag

NOW = dt.datetime(2026, 11, 29, 12, 30, 20, tzinfo=dt.UTC)


def minutes(**numbers_by_offset) -> list[dict]:
    """An hour of chart minutes ending at NOW's minute; ``m0=(delivered, failed, p50, p95)`` sets one."""
    end = NOW.replace(second=0)
    series = []
    for i in range(59, -1, -1):
        delivered, failed, p50, p95 = numbers_by_offset.get(f"m{i}", (0, 0, None, None))
        at = (end - dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        series.append({"at": at, "delivered": delivered, "failed": failed, "p50_ms": p50, "p95_ms": p95})
    return series


def test_points_keep_the_numbers_and_refuse_junk():
    points = chart_points(
        [{"at": "2026-11-29T12:30:00.000Z", "delivered": 3, "failed": -1, "p50_ms": "x", "p95_ms": 40}, "not a minute"]
    )
    assert points == [{"at": "2026-11-29T12:30:00.000Z", "delivered": 3, "failed": 0, "p50_ms": None, "p95_ms": 40}]
    assert len(chart_points(minutes() + minutes())) == 60


def test_geometry_stacks_failed_on_delivered_and_scales_both_lines():
    chart = chart_geometry(chart_points(minutes(m0=(3, 1, 20_000, 61_000), m30=(1, 0, 500, 500))))
    assert chart["plot_h"] == 180 and chart["plot_w"] == 980
    assert chart["max_count"] == 5  # 4 attempts rounded up to a readable axis
    last = chart["bars"][-1]
    assert (last["delivered"], last["failed"], last["at"]) == (3, 1, "2026-11-29T12:30:00.000Z")
    assert last["ok_h"] == 108.0 and last["ok_y"] == 12 + 180 - 108.0
    assert last["bad_h"] == 36.0 and last["bad_y"] == last["ok_y"] - 36.0
    assert last["label"] == "12:30 UTC" and last["p95"] == "61 s"
    assert all(bar["ok_h"] == bar["bad_h"] == 0 for bar in chart["bars"][:-1] if bar is not chart["bars"][29])
    x = round(56 + 59.5 * 980 / 60, 1)
    assert chart["p95_line"].endswith(f"{x},{round(12 + 180 - 180 * 61_000 / 100_000, 1)}")
    assert chart["p50_line"].endswith(f"{x},{round(12 + 180 - 180 * 20_000 / 100_000, 1)}")
    assert chart["max_ms"] == "100 s" and (chart["delivered"], chart["failed"]) == (4, 1) and not chart["empty"]
    assert [t["label"] for t in chart["ticks"]] == ["11:31", "11:46", "12:01", "12:16"]


def test_empty_hour_is_flagged():
    chart = chart_geometry(chart_points(minutes()))
    assert chart["empty"] and chart["p50_line"] == "" and chart["p95_line"] == ""


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
    assert status_class("half_open") == status_class("held") == "st-warn"
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


def test_ages_read_at_the_precision_ops_need():
    assert [age_text(s) for s in (None, -3, 42, 61, 3599, 3600 + 5 * 60, 2 * 86400 + 3 * 3600)] == [
        "–",
        "0 s",
        "42 s",
        "1 min",
        "59 min",
        "1 h 05 min",
        "2 d 3 h",
    ]
    assert age("not a time") == "–"
    assert percent(0.98765) == "98.8 %" and percent(None) == "–"


def test_the_browser_gets_the_same_vocabulary_as_the_templates():
    handed = json.loads(BROWSER_JSON)
    assert handed["status_classes"] == STATUS_CLASSES and handed["tier_classes"] == TIER_CLASSES
    assert set(handed["breaker_help"]) == set(BREAKER_STATES)
    assert handed["outbox_statuses"] == ["pending", "delivering", "delivered", "failed"]
    for state in BREAKER_STATES:
        assert status_class(state) != "st-muted"
