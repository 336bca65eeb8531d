"""`/stats [period]`: periods read like durations, or local calendar days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.policy.periods import parse_period

NOW = datetime(2025, 3, 30, 10, 30, tzinfo=UTC)  # Berlin switched to summer time at 01:00 UTC


def test_durations_end_now() -> None:
    week = parse_period("7d", NOW)
    assert (week.start, week.end, week.label) == (NOW - timedelta(days=7), NOW, "the last 7d")
    assert parse_period(" 24H ", NOW).start == NOW - timedelta(hours=24)
    assert parse_period("1d12h", NOW).label == "the last 1d12h"
    assert week.contains(NOW - timedelta(days=1)) and not week.contains(NOW)


def test_today_and_yesterday_are_local_days_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    today = parse_period("today", NOW, "Europe/Berlin")
    assert today.start == datetime(2025, 3, 30, tzinfo=berlin) and today.end == NOW
    assert today.start is not None and NOW - today.start == timedelta(hours=11, minutes=30)
    yesterday = parse_period("Yesterday", NOW, "Europe/Berlin")
    assert yesterday.start == datetime(2025, 3, 29, tzinfo=berlin)
    assert yesterday.end == today.start
    assert parse_period("all", NOW).start is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no period given"),
        ("lastweek", "unknown period 'lastweek'"),
        ("7", "unknown period '7'"),
        ("0d", "the period '0d' is empty"),
    ],
)
def test_bad_periods_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_period(text, NOW)
    assert message in str(err.value)
    assert "24h, 7d or 30d" in str(err.value) and "today, yesterday, all" in str(err.value)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_period("7d", NOW.replace(tzinfo=None))
