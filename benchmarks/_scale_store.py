"""The store calls the bot's start-up makes, timed in this process on the seeded database.

The rebuild (`TimerScheduler.rebuild`: `scheduled_timers` and `next_timer_due`;
`Outbox.recover`: `in_doubt_actions`) and the catch-up's `known_members`, whose memory is
measured with tracemalloc: the Python objects it holds per stored member.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from bot.store import Store


async def probe_store(database: Path, guild_id: int) -> dict[str, float]:
    out: dict[str, float] = {}
    async with await Store.open(database) as store:
        t0 = time.perf_counter()
        await store.scheduled_timers()
        t1 = time.perf_counter()
        await store.next_timer_due()
        t2 = time.perf_counter()
        await store.in_doubt_actions()
        t3 = time.perf_counter()
        out["scheduled_timers"] = t1 - t0
        out["next_timer_due"] = t2 - t1
        out["in_doubt_actions"] = t3 - t2
        out["rebuild"] = t3 - t0
        t0 = time.perf_counter()
        known = await store.known_members(guild_id)
        out["known_members"] = time.perf_counter() - t0
        out["known_members_rows"] = len(known)
        del known
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            known = await store.known_members(guild_id)
            out["known_members_mb"] = (tracemalloc.get_traced_memory()[0] - before) / 2**20
            del known
        finally:
            tracemalloc.stop()
    return out
