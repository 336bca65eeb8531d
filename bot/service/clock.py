"""Injected time. The bot never reads the clock deep inside; it asks a Clock.

`ScaledClock` lets the demo and tests run days in seconds: virtual time moves
`speed` times faster than real time, and `real_time_for` turns a virtual due time
into the real moment an APScheduler job must run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def real_time_for(self, moment: datetime) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_time_for(self, moment: datetime) -> datetime:
        return moment


class ScaledClock:
    """Virtual time starting at `start`, running `speed` times real time."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self._virtual_start = start
        self._real_start = datetime.now(UTC)
        self.speed = speed

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self._real_start
        return self._virtual_start + elapsed * self.speed

    def real_time_for(self, moment: datetime) -> datetime:
        return self._real_start + (moment - self._virtual_start) / self.speed

    def advance(self, by: timedelta) -> None:
        """Jump virtual time forward (tests: what is due later is due now)."""
        self._virtual_start += by
