"""The digest's schedule, with a simulated clock over whole years and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.policy import PolicyError, load_policy_text
from bot.policy.model import EVERY_DAY, EmptyDigest
from bot.service.digest_schedule import (
    DigestSchedule,
    DigestSlot,
    SlotKind,
    due_now,
    next_slot,
    slot_for,
    upcoming,
)

TICK = timedelta(minutes=15)
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 2, tzinfo=UTC)


def _expected_send(zone: ZoneInfo, day: date, at: time) -> datetime:
    """The oracle, by brute force on the tick grid: the first instant whose wall clock
    shows `day` at `at` or later (the first occurrence of a repeated time, the end of
    a gap). Every zone below changes its clocks on a quarter hour."""
    moment = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC) - timedelta(hours=3)
    moment = moment.replace(minute=moment.minute - moment.minute % 15, second=0)
    while True:
        local = moment.astimezone(zone)
        if local.date() > day or (local.date() == day and local.time() >= at):
            return moment
        moment += TICK


def _simulate(schedule: DigestSchedule, start: datetime, end: datetime) -> list[DigestSlot]:
    """The bot's loop on a ticking clock: at each tick, send what is owed, once."""
    sent: list[DigestSlot] = []
    last: date | None = start.astimezone(schedule.zone).date() - timedelta(days=1)
    now = start
    while now < end:
        slot = due_now(schedule, last, now)
        if slot is not None:
            assert slot.at == now, "a tick at the slot's instant must send it then"
            sent.append(slot)
            last = slot.local_date
        now += TICK
    return sent


def _local_days(zone: ZoneInfo, start: datetime, end: datetime) -> list[date]:
    first = start.astimezone(zone).date()
    last = (end - TICK).astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


YEAR_CASES = [
    # zone, digest_at, the day digest_at falls in a gap, the day it repeats
    ("Europe/Berlin", time(9, 0), None, None),
    ("Europe/Berlin", time(2, 30), date(2025, 3, 30), date(2025, 10, 26)),
    ("America/New_York", time(9, 0), None, None),
    ("America/New_York", time(2, 30), date(2025, 3, 9), None),
    ("America/New_York", time(1, 30), None, date(2025, 11, 2)),
    ("Australia/Sydney", time(7, 45), None, None),
    ("Australia/Sydney", time(2, 30), date(2025, 10, 5), date(2025, 4, 6)),
    # Chile changes its clocks at midnight: 00:30 is skipped, 23:30 happens twice.
    ("America/Santiago", time(0, 30), date(2025, 9, 7), None),
    ("America/Santiago", time(23, 30), None, date(2025, 4, 5)),
]


@pytest.mark.parametrize(("zone_name", "at", "gap_day", "repeat_day"), YEAR_CASES)
def test_a_year_on_a_ticking_clock_sends_once_per_local_day_at_the_right_time(
    zone_name: str, at: time, gap_day: date | None, repeat_day: date | None
) -> None:
    zone = ZoneInfo(zone_name)
    schedule = DigestSchedule(zone, at)
    # Start at the first tick of a local day, so that day is whole.
    start = datetime(2025, 1, 1, tzinfo=zone).astimezone(UTC)
    sent = _simulate(schedule, start, YEAR_END)

    days = _local_days(zone, start, YEAR_END)
    assert [s.local_date for s in sent] == days[: len(sent)]
    assert len(sent) >= 365
    for slot in sent:
        assert slot.at == _expected_send(zone, slot.local_date, at), slot
        local = slot.local(zone)
        assert local.date() == slot.local_date
        if slot.local_date == gap_day:
            assert slot.kind is SlotKind.AFTER_GAP
            assert local.time() > at and local.dst() != (slot.at - TICK).astimezone(zone).dst()
        elif slot.local_date == repeat_day:
            assert slot.kind is SlotKind.FIRST_OF_REPEATED
            assert local.time() == at and local.fold == 0
            # the second occurrence of the wall time sends nothing
            assert due_now(schedule, slot.local_date, slot.at + timedelta(hours=1)) is None
        else:
            assert slot.kind is SlotKind.ON_TIME
            assert local.time() == at
    # Both changes of the year really were crossed, on the days expected.
    kinds = {s.local_date: s.kind for s in sent if s.kind is not SlotKind.ON_TIME}
    expected = {d: k for d, k in ((gap_day, SlotKind.AFTER_GAP),) if d}
    expected |= {d: k for d, k in ((repeat_day, SlotKind.FIRST_OF_REPEATED),) if d}
    assert kinds == expected


def test_spring_forward_in_berlin_sends_0230_at_0300_local() -> None:
    schedule = DigestSchedule(ZoneInfo("Europe/Berlin"), time(2, 30))
    slot = slot_for(schedule, date(2025, 3, 30))
    assert slot is not None
    assert slot.at == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert slot.local(schedule.zone).strftime("%H:%M %Z") == "03:00 CEST"


def test_fall_back_in_berlin_sends_0230_once_at_the_first_occurrence() -> None:
    schedule = DigestSchedule(ZoneInfo("Europe/Berlin"), time(2, 30))
    slot = slot_for(schedule, date(2025, 10, 26))
    assert slot is not None
    assert slot.at == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 02:30 CEST, not CET
    after = next_slot(schedule, slot.local_date, slot.at)
    assert after.local_date == date(2025, 10, 27)


def test_next_slot_agrees_with_the_ticking_clock_over_a_year() -> None:
    zone = ZoneInfo("America/New_York")
    schedule = DigestSchedule(zone, time(2, 30), frozenset({0, 2, 6}))  # mon, wed, sun
    start = datetime(2025, 1, 1, tzinfo=zone).astimezone(UTC)
    ticked = _simulate(schedule, start, YEAR_END)
    jumped = upcoming(schedule, start, len(ticked), last_sent=date(2024, 12, 31))
    assert jumped == ticked
    assert {s.local_date.weekday() for s in ticked} == {0, 2, 6}
    assert len(ticked) == 157  # 52 Mondays + 53 Wednesdays + 52 Sundays in 2025


def test_a_day_the_clocks_skip_entirely_gets_no_digest() -> None:
    # Samoa went from 29 December 2011 straight to 31 December.
    schedule = DigestSchedule(ZoneInfo("Pacific/Apia"), time(9, 0))
    assert slot_for(schedule, date(2011, 12, 30)) is None
    start = datetime(2011, 12, 28, 12, tzinfo=schedule.zone).astimezone(UTC)
    slots = upcoming(schedule, start, 3)
    assert [s.local_date for s in slots] == [
        date(2011, 12, 29),
        date(2011, 12, 31),
        date(2012, 1, 1),
    ]


BERLIN = ZoneInfo("Europe/Berlin")


def _berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def test_downtime_owes_one_digest_for_the_latest_missed_day_only() -> None:
    schedule = DigestSchedule(BERLIN, time(9, 0))
    last = date(2025, 6, 3)  # Tuesday's was sent; down from Tuesday to Friday noon
    owed = due_now(schedule, last, _berlin(2025, 6, 6, 12, 0))
    assert owed is not None and owed.local_date == date(2025, 6, 6)
    assert owed.at == _berlin(2025, 6, 6, 9, 0)
    # once sent and recorded, nothing more is owed; the next is tomorrow's
    assert due_now(schedule, owed.local_date, _berlin(2025, 6, 6, 12, 0)) is None
    assert next_slot(schedule, owed.local_date, _berlin(2025, 6, 6, 12, 0)).at == _berlin(
        2025, 6, 7, 9, 0
    )


def test_back_before_todays_time_owes_yesterdays_digest() -> None:
    schedule = DigestSchedule(BERLIN, time(9, 0))
    owed = due_now(schedule, date(2025, 6, 3), _berlin(2025, 6, 6, 8, 0))
    assert owed is not None and owed.local_date == date(2025, 6, 5)
    # ... and today's still comes at its time
    assert next_slot(schedule, owed.local_date, _berlin(2025, 6, 6, 8, 0)).at == _berlin(
        2025, 6, 6, 9, 0
    )


def test_nothing_owed_when_up_to_date_or_before_the_time() -> None:
    schedule = DigestSchedule(BERLIN, time(9, 0))
    assert due_now(schedule, date(2025, 6, 6), _berlin(2025, 6, 6, 23, 0)) is None
    assert due_now(schedule, date(2025, 6, 5), _berlin(2025, 6, 6, 8, 59)) is None


def test_downtime_over_days_without_a_digest_owes_the_last_digest_day() -> None:
    schedule = DigestSchedule(BERLIN, time(9, 0), frozenset({0}))  # Mondays only
    owed = due_now(schedule, date(2025, 5, 26), _berlin(2025, 6, 8, 20, 0))  # a Sunday
    assert owed is not None and owed.local_date == date(2025, 6, 2)
    assert next_slot(schedule, owed.local_date, _berlin(2025, 6, 8, 20, 0)).local_date == date(
        2025, 6, 9
    )


def test_never_sent_owes_the_latest_past_slot() -> None:
    schedule = DigestSchedule(BERLIN, time(9, 0))
    owed = due_now(schedule, None, _berlin(2025, 6, 6, 10, 0))
    assert owed is not None and owed.local_date == date(2025, 6, 6)


def test_a_later_digest_at_the_same_day_does_not_send_twice() -> None:
    # the owner moves digest_at from 09:00 to 18:00 after today's went out
    later = DigestSchedule(BERLIN, time(18, 0))
    assert due_now(later, date(2025, 6, 6), _berlin(2025, 6, 6, 19, 0)) is None
    assert next_slot(later, date(2025, 6, 6), _berlin(2025, 6, 6, 10, 0)).local_date == date(
        2025, 6, 7
    )


def test_naive_now_and_empty_days_are_refused() -> None:
    schedule = DigestSchedule(BERLIN, time(9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        next_slot(schedule, None, datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="non-empty"):
        DigestSchedule(BERLIN, time(9, 0), frozenset())


POLICY = """\
version: 1
owner: {{timezone: Australia/Sydney, digest_at: "07:30"{extra}}}
follow_back: {{role: Mutuals}}
rules: [{{name: everyone, then: follow_back}}]
"""


def test_policy_digest_options_build_the_schedule() -> None:
    extra = ", digest_days: [mon, wed, fri], digest_when_empty: one_line"
    owner = load_policy_text(POLICY.format(extra=extra)).owner
    assert owner.digest_when_empty is EmptyDigest.ONE_LINE
    schedule = DigestSchedule.from_owner(owner)
    assert schedule == DigestSchedule(
        ZoneInfo("Australia/Sydney"), time(7, 30), frozenset({0, 2, 4})
    )


def test_policy_digest_defaults_every_day_and_skip() -> None:
    owner = load_policy_text(POLICY.format(extra="")).owner
    assert owner.digest_days == EVERY_DAY
    assert owner.digest_when_empty is EmptyDigest.SKIP


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (", digest_days: [mon, tues]", "owner.digest_days[1]: expected a day of the week"),
        (", digest_days: [mon, tues]", "did you mean 'tue'?"),
        (", digest_days: []", "leave digest_days out for a digest every day"),
        (", digest_days: mon", "owner.digest_days: expected a list"),
        (", digest_when_empty: nothing", "owner.digest_when_empty: expected one of skip, one_line"),
    ],
)
def test_policy_digest_options_report_mistakes_with_line_and_field(
    extra: str, message: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(POLICY.format(extra=extra), "p.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("p.yaml:2:")
