"""The store calls the bot's start-up makes, timed in this process on the seeded database.

The rebuild (`TimerScheduler.rebuild`: `count_scheduled_timers` and `next_timer_due`;
`Outbox.recover`: `in_doubt_actions`) and the catch-up's comparison (`compare_members`,
the guild's list in batches of `RECONCILE_BATCH`), whose memory is measured with
tracemalloc (its peak: the Python objects it holds at once, beyond the list itself).
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.service.followers import RECONCILE_BATCH
from bot.store import ListedRow, Store


def listed(world: dict[str, Any]) -> list[ListedRow]:
    """Who is in the guild now, as the catch-up hands it to the store (no role known)."""
    left = set(world["left_ids"])
    now = datetime.now(UTC)
    rows: list[ListedRow] = [
        (int(uid), datetime.fromisoformat(joined), False, None, True)
        for uid, _, _, joined in world["stored"]
        if uid not in left
    ]
    rows += [(int(uid), now, False, None, True) for uid in world["new_ids"]]
    return rows


def _batches(rows: list[ListedRow]) -> Iterator[list[ListedRow]]:
    for start in range(0, len(rows), RECONCILE_BATCH):
        yield rows[start : start + RECONCILE_BATCH]


async def probe_store(database: Path, world: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    guild_id = int(world["guild_id"])
    rows = listed(world)
    async with await Store.open(database) as store:
        t0 = time.perf_counter()
        await store.count_scheduled_timers()
        t1 = time.perf_counter()
        await store.next_timer_due()
        t2 = time.perf_counter()
        await store.in_doubt_actions()
        t3 = time.perf_counter()
        out["count_scheduled_timers"] = t1 - t0
        out["next_timer_due"] = t2 - t1
        out["in_doubt_actions"] = t3 - t2
        out["rebuild"] = t3 - t0
        t0 = time.perf_counter()
        differing, absent = await store.compare_members(guild_id, _batches(rows))
        out["compare"] = time.perf_counter() - t0
        out["compare_rows"] = len(rows)
        out["compare_found"] = len(differing) + len(absent)
        del differing, absent
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            found = await store.compare_members(guild_id, _batches(rows))
            out["compare_peak_mb"] = (tracemalloc.get_traced_memory()[1] - before) / 2**20
            del found
        finally:
            tracemalloc.stop()
    return out
