"""Batches: many joins and many decisions, each in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.policy.decision import Action
from bot.store import ActionSpec, DecisionInput, JoinInput, Store, TimerSpec, facts_from_row
from tests.store.helpers import GUILD, T0, decision, user


async def test_a_new_members_row_is_exactly_what_a_read_gives_back(store: Store) -> None:
    joined = await store.record_joins([JoinInput(GUILD, user(1), T0)], T0)
    [(_, row, counted)] = joined
    assert counted
    assert row == await store.get_member(GUILD, 1)


async def test_record_joins_counts_rejoins_and_skips_repeats(store: Store) -> None:
    await store.record_joins([JoinInput(GUILD, user(1), T0)], T0)
    later = T0 + timedelta(hours=1)
    stored = await store.record_joins(
        [JoinInput(GUILD, user(1), T0), JoinInput(GUILD, user(2), later, pending=True)], later
    )
    (_, repeat, repeat_counted), (_, pending, pending_counted) = stored
    assert not repeat_counted and repeat.times_joined == 1
    assert pending_counted and pending.pending
    # Neither a repeat nor a pending member leaves an event waiting for a decision.
    assert await store.events_without_decision() == 1  # only the first, undecided join


async def test_record_decisions_stores_everything_or_nothing(store: Store) -> None:
    stored = await store.record_joins(
        [JoinInput(GUILD, user(1), T0), JoinInput(GUILD, user(2), T0)], T0
    )
    good = DecisionInput(
        GUILD,
        1,
        stored[0][0],
        decision(Action.LATER, due=T0 + timedelta(hours=2)),
        actions=[ActionSpec("dm", {"text": "hi"})],
        timer=TimerSpec("later", T0 + timedelta(hours=2)),
    )
    bad = DecisionInput(
        GUILD, 2, stored[1][0], decision(), actions=[ActionSpec("dm", {"x": object()})]
    )
    with pytest.raises(TypeError):
        await store.record_decisions([good, bad], T0)
    assert await store.count_decisions() == 0
    assert await store.scheduled_timers() == []

    [decision_id] = await store.record_decisions([good], T0)
    [row] = await store.decisions_for(GUILD, 1)
    assert row.id == decision_id and row.action is Action.LATER
    assert row.explanation == row.to_decision().explain()  # rendered from the misses
    assert await store.next_timer_due() == T0 + timedelta(hours=2)
    assert [t.user_id for t in await store.due_timers(T0 + timedelta(hours=3))] == [1]
    assert await store.due_timers(T0) == []


async def test_facts_from_row_carries_the_stored_counters(store: Store) -> None:
    await store.record_joins([JoinInput(GUILD, user(1), T0)], T0)
    await store.bump_activity(GUILD, 1, messages=3, owner_mentions=1)
    row = await store.get_member(GUILD, 1)
    assert row is not None
    facts = facts_from_row(row, observed=True, roles=frozenset({"VIP"}))
    assert (facts.messages, facts.owner_mentions, facts.observed) == (3, 1, True)
    assert facts.roles == frozenset({"VIP"}) and facts.joined_at == T0
