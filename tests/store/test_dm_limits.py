"""DM limits live in the store: daily cap, spacing, per-person cooldown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.store import ActionSpec, Store
from tests.store.helpers import T0

M = timedelta(minutes=1)
DAY = timedelta(days=1)
MIDNIGHT = datetime(2026, 3, 1, tzinfo=UTC)  # T0 is noon of that day


async def slot(
    store: Store,
    user_id: int,
    now: datetime,
    *,
    per_day: int = 10,
    spacing: timedelta = timedelta(0),
    cooldown: timedelta = timedelta(0),
    day_start: datetime = MIDNIGHT,
) -> datetime | None:
    return await store.dm_slot(
        user_id, now, per_day=per_day, spacing=spacing, cooldown=cooldown, day_start=day_start
    )


async def test_nothing_sent_means_now(store: Store) -> None:
    assert await slot(store, 1, T0, per_day=1, spacing=M, cooldown=DAY) is None
    assert await store.dms_sent_since(MIDNIGHT) == 0


async def test_daily_cap_moves_to_the_next_day(store: Store) -> None:
    # one sent yesterday does not count toward today's cap
    await store.record_dm_sent(9, None, MIDNIGHT - M)
    for user_id in (1, 2, 3):
        await store.record_dm_sent(user_id, None, T0 - 60 * M + user_id * M)
    assert await store.dms_sent_since(MIDNIGHT) == 3
    assert await slot(store, 4, T0, per_day=3) == MIDNIGHT + DAY
    assert await slot(store, 4, T0, per_day=4) is None


async def test_daily_cap_follows_the_owners_midnight_across_dst(store: Store) -> None:
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 3, 29, tzinfo=paris)  # clocks go forward that night
    now = datetime(2026, 3, 29, 12, tzinfo=paris)
    await store.record_dm_sent(1, None, now - M)
    when = await slot(store, 2, now, per_day=1, day_start=start)
    assert when == datetime(2026, 3, 30, tzinfo=paris)
    assert when is not None and when.utcoffset() == timedelta(0)
    assert when == datetime(2026, 3, 29, 22, tzinfo=UTC)  # 23 hours after local midnight


async def test_spacing_since_the_last_dm_to_anyone(store: Store) -> None:
    await store.record_dm_sent(1, None, T0 - 2 * M)
    await store.record_dm_sent(2, None, T0 - M)
    assert await slot(store, 3, T0, spacing=5 * M) == T0 + 4 * M
    assert await slot(store, 3, T0 + 4 * M, spacing=5 * M) is None


async def test_cooldown_per_person(store: Store) -> None:
    await store.record_dm_sent(1, None, T0 - 60 * M)
    cooldown = timedelta(hours=24)
    assert await slot(store, 1, T0, cooldown=cooldown) == T0 - 60 * M + cooldown
    assert await slot(store, 2, T0, cooldown=cooldown) is None  # someone else: fine
    assert await slot(store, 1, T0 + 23 * 60 * M, cooldown=cooldown) is None


async def test_the_latest_limit_wins(store: Store) -> None:
    await store.record_dm_sent(1, None, T0 - M)
    when = await slot(store, 1, T0, per_day=1, spacing=5 * M, cooldown=2 * DAY)
    assert when == T0 - M + 2 * DAY  # later than both the next day and the spacing


async def test_dm_log_links_the_outbox_row(store: Store) -> None:
    [row_id] = await store.enqueue_actions(1000, 1, [ActionSpec("dm", {"text": "x"})], T0)
    await store.record_dm_sent(1, row_id, T0)
    assert await store.dms_sent_since(T0) == 1
    assert await store.dms_sent_since(T0 + M) == 0
