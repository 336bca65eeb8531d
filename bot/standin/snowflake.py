"""Snowflake ids whose timestamp part is meaningful (discord.py derives created_at from it)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def now() -> datetime:
    return datetime.now(UTC)


class Snowflakes:
    """Generates unique ids: timestamp << 22 | worker << 17 | increment, like Discord."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._counter = itertools.count()
        self._issued: set[int] = set()

    def next(self, at: datetime | None = None) -> int:
        when = at if at is not None else now()
        if when.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware one")
        ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
        if ms < 0:
            raise ValueError("datetime before the Discord epoch (2015)")
        while True:
            # the low 17 bits give 131072 ids per millisecond before a collision can occur
            flake = (ms << 22) | (self._worker << 17) | (next(self._counter) & 0x1FFFF)
            if flake not in self._issued:
                self._issued.add(flake)
                return flake
