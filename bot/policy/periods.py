"""Periods the owner asks about (`/stats 7d`): "24h", "7d", "today", "yesterday", "all"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.policy.durations import format_duration, parse_duration

WORDS = ("today", "yesterday", "all")
_HINT = "write a duration such as 24h, 7d or 30d, or one of: today, yesterday, all"


@dataclass(frozen=True, slots=True)
class Period:
    """From `start` (None: the beginning) up to, not including, `end`; `label` for people."""

    start: datetime | None
    end: datetime
    label: str

    def contains(self, at: datetime) -> bool:
        return (self.start is None or at >= self.start) and at < self.end


def parse_period(text: str, now: datetime, timezone: str = "UTC") -> Period:
    """A period ending now ("7d": the last seven days), or a local calendar day in the
    owner's timezone ("today", "yesterday"). ValueError says what to write instead."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"no period given; {_HINT}")
    word = text.strip().lower()
    if word == "all":
        return Period(None, now, "all time")
    if word in ("today", "yesterday"):
        zone = ZoneInfo(timezone)
        local = now.astimezone(zone)
        midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
        if word == "today":
            return Period(midnight, now, "today")
        day_before = midnight.date() - timedelta(days=1)
        start = datetime(day_before.year, day_before.month, day_before.day, tzinfo=zone)
        return Period(start, midnight, "yesterday")
    try:
        span = parse_duration(word)
    except ValueError:
        raise ValueError(f"unknown period {text.strip()[:40]!r}; {_HINT}") from None
    if not span:
        raise ValueError(f"the period {text.strip()!r} is empty; {_HINT}")
    return Period(now - span, now, f"the last {format_duration(span)}")
