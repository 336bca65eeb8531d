"""Injected time: a scaled clock runs virtual days in real seconds, and maps back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.service.clock import ScaledClock, SystemClock
from tests.service.helpers import T0


async def test_scaled_clock_runs_speed_times_faster() -> None:
    clock = ScaledClock(T0, speed=3600.0)
    first = clock.now()
    assert T0 <= first < T0 + timedelta(minutes=5)
    await asyncio.sleep(0.05)
    elapsed = clock.now() - first
    assert elapsed >= timedelta(seconds=0.05 * 3600 * 0.9)  # at least ~3 virtual minutes
    assert elapsed < timedelta(hours=2)


def test_real_time_for_maps_virtual_spans_back_divided_by_speed() -> None:
    clock = ScaledClock(T0, speed=3600.0)
    span = clock.real_time_for(T0 + timedelta(hours=1)) - clock.real_time_for(T0)
    assert span == timedelta(seconds=1)
    # the virtual start is now, in real time
    assert abs(clock.real_time_for(T0) - datetime.now(UTC)) < timedelta(seconds=1)
    # a virtual moment in the past is a real moment in the past
    assert clock.real_time_for(T0 - timedelta(hours=1)) < datetime.now(UTC)


def test_real_time_for_is_the_inverse_of_now() -> None:
    clock = ScaledClock(T0, speed=10.0)
    now = clock.now()
    assert abs(clock.real_time_for(now) - datetime.now(UTC)) < timedelta(seconds=0.5)


def test_system_clock_is_aware_utc_and_real() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=1)
    assert clock.real_time_for(T0) == T0
