"""Measure the store's part of a join -> decision, on a file database.

    /tmp/venv/bin/python -m tests.store.bench_store [joins]

Per join: record_joins (the event and the member), member_facts (with a 10-minute surge
window, every join inside it), get_member, record_decisions with one add_role action. Not collected
by pytest (the file name does not start with test_).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bot.policy.decision import Action, Decision, Miss
from bot.store import ActionSpec, Store
from tests.store.helpers import GUILD, T0, join_event, member_facts, record_decision, user

DECISION = Decision(
    rule="everyone",
    action=Action.FOLLOW_BACK,
    misses=(Miss("bots", "bot: true", "false"),),
    policy_version="bench",
)


async def one_join(store: Store, user_id: int, spacing: timedelta) -> None:
    now = T0 + user_id * spacing
    event_id = await join_event(store, GUILD, user(user_id), now)
    facts = await member_facts(store, GUILD, user_id, now=now, observed=False)
    assert facts is not None
    member = await store.get_member(GUILD, user_id)
    assert member is not None
    await record_decision(store,
        GUILD, user_id, event_id, DECISION, observed=False, at=now,
        actions=[ActionSpec("add_role", {"role_id": 42, "reason": "follow back"})],
    )  # fmt: skip


async def run(joins: int, spacing: timedelta) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.sqlite3")
        try:
            started = time.perf_counter()
            for user_id in range(1, joins + 1):
                await one_join(store, user_id, spacing)
            elapsed = time.perf_counter() - started
            assert await store.count_decisions() == joins
            assert await store.events_without_decision() == 0
        finally:
            await store.close()
    return elapsed / joins * 1e6


def main() -> None:
    joins = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for label, spacing in (
        ("spread (1 join/min)", timedelta(minutes=1)),
        ("raid (all in 10 min)", timedelta(minutes=10) / joins),
    ):
        per_join = asyncio.run(run(joins, spacing))
        print(f"{joins} joins, {label}: {per_join:.0f} µs per join -> decision")


if __name__ == "__main__":
    main()
