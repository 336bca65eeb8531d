"""When the daily digest is sent: pure date arithmetic, no scheduler, no I/O.

One digest per local day at `owner.digest_at` in `owner.timezone`, on the days the
policy names (`owner.digest_days`). The wall clock decides, not a cron expression:

- a time the clocks skip (02:30 on a spring-forward day) is sent at the first valid
  local time after it, the end of the gap (03:00);
- a time the clocks repeat (02:30 on a fall-back day) is sent once, at its first
  occurrence (fold=0);
- a local day the clocks skip entirely (Pacific/Apia, 30 December 2011) has no digest.

Put differently: a day's digest goes out at the first instant whose local wall clock
shows that date and a time at or after `digest_at`.

How the scheduler uses it (the same functions `followback digest next` prints):

- `next_slot(schedule, last_sent, now)`: when to wake next;
- on waking, and once at start-up, `due_now(schedule, last_sent, now)`: the slot owed
  now, if any, and then the bot stores `slot.local_date` as the last date sent, also on
  a day whose digest was empty and skipped. After downtime it owes only the latest
  missed day's digest, never one per missed day.
- `last_sent=None` means "never sent", and then the latest past slot is owed: a first
  start after today's time sends at once. A wiring that would rather start tomorrow
  stores `due_now(...).local_date` on its first start without sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.policy.model import EVERY_DAY, Owner

ONE_DAY = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)
# Looking back or ahead this many local days always finds a slot: a week, plus one
# day for a day the clocks skip, plus one for the day either side of "today".
_SEARCH_DAYS = 10


class SlotKind(StrEnum):
    ON_TIME = "on_time"
    AFTER_GAP = "after_gap"  # digest_at fell in a gap: sent when the gap ends
    FIRST_OF_REPEATED = "first_of_repeated"  # digest_at happens twice: sent the first time


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    zone: tzinfo
    at: time  # local wall time, naive
    days: frozenset[int] = EVERY_DAY  # date.weekday() numbers, Monday = 0

    def __post_init__(self) -> None:
        if not self.days or not self.days <= EVERY_DAY:
            raise ValueError(f"digest days must be a non-empty set of 0..6, not {self.days!r}")
        if self.at.tzinfo is not None:
            raise ValueError("digest_at is a local wall time: pass a naive time")

    @classmethod
    def from_owner(cls, owner: Owner) -> DigestSchedule:
        return cls(ZoneInfo(owner.timezone), owner.digest_at, owner.digest_days)


@dataclass(frozen=True, slots=True)
class DigestSlot:
    """One day's digest: the local date it belongs to and the instant it is sent."""

    local_date: date
    at: datetime  # aware, UTC
    kind: SlotKind = SlotKind.ON_TIME

    def local(self, zone: tzinfo) -> datetime:
        return self.at.astimezone(zone)


def _wall(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def slot_for(schedule: DigestSchedule, day: date) -> DigestSlot | None:
    """The send instant for local `day` (whatever its weekday); None if the clocks
    skip past the whole of it."""
    zone = schedule.zone
    wall = datetime.combine(day, schedule.at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == wall:
        second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
        kind = SlotKind.ON_TIME if second == first else SlotKind.FIRST_OF_REPEATED
        return DigestSlot(day, first, kind)
    # In a gap. fold=0 reads the wall time with the offset before the change, fold=1
    # with the one after; the change itself lies between the two readings: find the
    # first second whose wall clock is past `wall` (the end of the gap).
    lo, hi = sorted((first, wall.replace(tzinfo=zone, fold=1).astimezone(UTC)))
    while hi - lo > ONE_SECOND:
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if _wall(mid, zone) >= wall:
            hi = mid
        else:
            lo = mid
    if _wall(hi, zone).date() != day:
        return None
    return DigestSlot(day, hi, SlotKind.AFTER_GAP)


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def next_slot(schedule: DigestSchedule, last_sent: date | None, now: datetime) -> DigestSlot:
    """The first slot after `now` for a local date after `last_sent`: when to wake next."""
    _check_now(now)
    day = _wall(now, schedule.zone).date() - ONE_DAY
    if last_sent is not None and day <= last_sent:
        day = last_sent + ONE_DAY
    for _ in range(_SEARCH_DAYS):
        if day.weekday() in schedule.days:
            slot = slot_for(schedule, day)
            if slot is not None and slot.at > now:
                return slot
        day += ONE_DAY
    raise AssertionError("unreachable: a week always holds a digest day")  # pragma: no cover


def due_now(schedule: DigestSchedule, last_sent: date | None, now: datetime) -> DigestSlot | None:
    """The digest owed at `now`: the latest slot at or before `now` for a date after
    `last_sent`, or None. After downtime this is the latest missed day, once."""
    _check_now(now)
    day = _wall(now, schedule.zone).date()
    for _ in range(_SEARCH_DAYS):
        if last_sent is not None and day <= last_sent:
            return None
        if day.weekday() in schedule.days:
            slot = slot_for(schedule, day)
            if slot is not None and slot.at <= now:
                return slot
        day -= ONE_DAY
    return None


def upcoming(
    schedule: DigestSchedule, now: datetime, count: int, last_sent: date | None = None
) -> list[DigestSlot]:
    """The next `count` slots after `now`, as the scheduler would meet them."""
    out: list[DigestSlot] = []
    while len(out) < count:
        slot = next_slot(schedule, last_sent, now)
        out.append(slot)
        last_sent, now = slot.local_date, slot.at
    return out
