"""Recent join times per guild, so surge facts do not re-read thousands of rows per
decision. The database stays the truth: a guild's cache is filled from it on first use."""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Keep at most this many cached join times per guild before dropping old ones.
JOIN_CACHE_LIMIT = 20_000
JOIN_CACHE_KEEP = timedelta(days=1)


@dataclass(slots=True)
class GuildJoins:
    """Join times of a guild, sorted; complete for every join strictly after ``floor``."""

    floor: datetime
    times: list[datetime] = field(default_factory=list)

    def add(self, joined_at: datetime) -> None:
        if joined_at <= self.floor:
            return
        insort(self.times, joined_at)
        if len(self.times) > JOIN_CACHE_LIMIT:
            cutoff = self.times[-1] - JOIN_CACHE_KEEP
            del self.times[: bisect_right(self.times, cutoff)]
            self.floor = max(self.floor, cutoff)

    def between(self, since: datetime, until: datetime | None) -> tuple[datetime, ...]:
        lo = bisect_right(self.times, since)
        hi = len(self.times) if until is None else bisect_right(self.times, until)
        return tuple(self.times[lo:hi])
