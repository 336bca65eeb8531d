"""Many coroutines on the one connection; the join-time cache against the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.policy.decision import Action
from bot.store import ActionSpec, Store, TimerSpec, join_cache
from tests.store.helpers import (
    GUILD,
    T0,
    decision,
    join_event,
    member_facts,
    record_decision,
    record_join,
    user,
)

S = timedelta(seconds=1)


async def pipeline(store: Store, user_id: int) -> int:
    now = T0 + user_id * S
    event_id = await join_event(store, GUILD, user(user_id), now)
    facts = await member_facts(store, GUILD, user_id, now=now, observed=False)
    assert facts is not None
    action = Action.OBSERVE if user_id % 2 else Action.FOLLOW_BACK
    return await record_decision(store,
        GUILD, user_id, event_id, decision(action, due=now + S), observed=False, at=now,
        actions=[ActionSpec("add_role", {"role_id": 1})],
        timer=TimerSpec("observe", now + S) if user_id % 2 else None,
    )  # fmt: skip


async def test_concurrent_pipelines_interleave_safely(store: Store) -> None:
    ids = await asyncio.gather(*(pipeline(store, user_id) for user_id in range(1, 101)))
    assert len(set(ids)) == 100
    assert await store.count_decisions() == 100
    assert await store.events_without_decision() == 0
    assert len(await store.due_actions(T0 + timedelta(hours=1), limit=1000)) == 100
    assert len(await store.scheduled_timers()) == 50
    # every member's last decision is its own
    for user_id in (1, 50, 100):
        member = await store.get_member(GUILD, user_id)
        latest = await store.latest_decision(GUILD, user_id)
        assert member is not None and latest is not None
        assert member.last_decision_id == latest.id


async def test_concurrent_claims_across_rows(store: Store) -> None:
    ids = await store.enqueue_actions(
        GUILD, 1, [ActionSpec("add_role", {"role_id": n}) for n in range(20)], T0
    )
    claims = await asyncio.gather(*(store.claim_action(i, T0) for i in ids + ids))
    assert claims.count(True) == 20
    assert {row.status for row in await store.in_doubt_actions()} == {"sending"}
    assert len(await store.in_doubt_actions()) == 20


async def test_join_cache_prunes_and_falls_back_to_the_database(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(join_cache, "JOIN_CACHE_LIMIT", 5)
    monkeypatch.setattr(join_cache, "JOIN_CACHE_KEEP", timedelta(hours=1))
    await store.recent_join_times(GUILD, T0 - S)  # fill the cache early
    hour = timedelta(hours=1)
    for user_id in range(10):  # one join per hour: pruning keeps the last hour
        at = T0 + user_id * hour
        await record_join(store, GUILD, user(user_id), at, False, at)
    # Recent: served from the cache. Old: read again from the database. Both complete.
    assert await store.recent_join_times(GUILD, T0 + 7 * hour) == (T0 + 8 * hour, T0 + 9 * hour)
    everything = await store.recent_join_times(GUILD, T0 - S)
    assert everything == tuple(T0 + n * hour for n in range(10))


async def test_store_as_context_manager_and_double_close(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        await record_join(store, GUILD, user(1), T0, False, T0)
    await store.close()  # harmless
    async with await Store.open(db_path) as again:
        assert await again.get_member(GUILD, 1) is not None


async def test_reply_log_for_the_mention_cooldown(store: Store) -> None:
    assert await store.last_reply_at(GUILD, 1) is None
    await store.record_reply(GUILD, 1, "thanks", T0)
    await store.record_reply(GUILD, 1, "away", T0 + S)
    await store.record_reply(GUILD, 2, "thanks", T0 + 2 * S)
    assert await store.last_reply_at(GUILD, 1) == T0 + S
