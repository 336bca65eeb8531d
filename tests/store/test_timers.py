"""Timers act at most once; reply variants rotate and persist."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.policy.decision import Action
from bot.store import ActionSpec, Store, TimerSpec
from tests.store.helpers import GUILD, T0, decision, record_decision, record_join, user

H = timedelta(hours=1)


async def timer_for(store: Store, user_id: int, kind: str = "later", due_in: int = 24) -> int:
    await record_join(store, GUILD, user(user_id), T0, False, T0)
    action = Action.LATER if kind == "later" else Action.OBSERVE
    await record_decision(store,
        GUILD, user_id, None, decision(action, due=T0 + due_in * H), observed=False, at=T0,
        timer=TimerSpec(kind, T0 + due_in * H),
    )  # fmt: skip
    [timer] = await store.timers_for(GUILD, user_id)
    return timer.id


async def test_scheduled_timers_earliest_first(store: Store) -> None:
    late = await timer_for(store, 1, due_in=48)
    soon = await timer_for(store, 2, "observe", due_in=2)
    timers = await store.scheduled_timers()
    assert [timer.id for timer in timers] == [soon, late]
    assert timers[0].kind == "observe" and timers[0].due == T0 + 2 * H


async def test_claim_once_then_finish(store: Store) -> None:
    timer_id = await timer_for(store, 1)
    results = await asyncio.gather(*(store.claim_timer(timer_id, T0 + 24 * H) for _ in range(3)))
    assert sorted(results) == [False, False, True]
    assert await store.scheduled_timers() == []
    assert await store.finish_timer(timer_id, T0 + 24 * H, "followed back (late)")
    timer = await store.get_timer(timer_id)
    assert timer is not None and timer.status == "fired"
    assert timer.outcome == "followed back (late)" and timer.finished_at == T0 + 24 * H
    assert not await store.cancel_timer(timer_id, T0 + 25 * H, "too late")


async def test_fire_timer_queues_actions_exactly_once(store: Store) -> None:
    timer_id = await timer_for(store, 1)
    role = [ActionSpec("add_role", {"role_id": 7, "reason": "late follow-back"})]
    first, second = await asyncio.gather(
        store.fire_timer(timer_id, T0 + 24 * H, "followed back (late)", actions=role),
        store.fire_timer(timer_id, T0 + 24 * H, "followed back (late)", actions=role),
    )
    assert sorted([first, second]) == [False, True]
    [action] = await store.actions_for(GUILD, 1)
    timer = await store.get_timer(timer_id)
    assert timer is not None and action.decision_id == timer.decision_id
    assert (action.kind, action.payload["role_id"], action.status) == ("add_role", 7, "pending")
    assert timer.status == "fired" and timer.outcome == "followed back (late)"


async def test_fire_timer_with_a_bad_action_stays_scheduled(store: Store) -> None:
    timer_id = await timer_for(store, 1)
    with pytest.raises(TypeError):  # a set cannot be JSON
        await store.fire_timer(timer_id, T0, "x", actions=[ActionSpec("dm", {"x": {1, 2}})])
    assert [timer.id for timer in await store.scheduled_timers()] == [timer_id]
    assert await store.actions_for(GUILD, 1) == []


async def test_cancel_one_and_all_of_a_member(store: Store) -> None:
    first = await timer_for(store, 1)
    await record_decision(store,
        GUILD, 1, None, decision(Action.OBSERVE, due=T0 + H), observed=False, at=T0,
        timer=TimerSpec("observe", T0 + H),
    )  # fmt: skip
    other = await timer_for(store, 2)
    assert await store.cancel_timer(first, T0 + H, "left the server")
    assert not await store.claim_timer(first, T0 + 2 * H)
    assert await store.cancel_timers(GUILD, 1, T0 + H, "left the server") == 1
    assert await store.cancel_timers(GUILD, 1, T0 + H, "again") == 0
    statuses = {
        timer.id: (timer.status, timer.outcome) for timer in await store.timers_for(GUILD, 1)
    }
    assert set(statuses.values()) == {("cancelled", "left the server")}
    assert [timer.id for timer in await store.scheduled_timers()] == [other]


async def test_next_variant_rotates_and_persists(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        assert [await store.next_variant("thanks") for _ in range(3)] == [0, 1, 2]
        assert await store.next_variant("away") == 0
    finally:
        await store.close()
    store = await Store.open(db_path)
    try:
        assert await store.next_variant("thanks") == 3
        assert await store.next_variant("away") == 1
        assert await store.next_variant("'); DROP TABLE reply_rotation;--") == 0
    finally:
        await store.close()
