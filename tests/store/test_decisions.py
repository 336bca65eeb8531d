"""Events and decisions: stored first, decided in one transaction."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from bot.policy.decision import Action, Decision, Miss
from bot.store import ActionSpec, Store, TimerSpec
from tests.store.helpers import (
    GUILD,
    OTHER_GUILD,
    T0,
    decision,
    join_event,
    pending_reviews,
    record_decision,
    record_join,
    user,
)

H = timedelta(hours=1)


async def joined(store: Store, user_id: int = 1) -> int:
    return await join_event(store, GUILD, user(user_id), T0)


async def test_events_are_stored_unprocessed_then_processed(store: Store) -> None:
    join = await store.record_event(GUILD, 1, "join", {"joined_at": T0.isoformat()}, T0)
    leave = await store.record_event(GUILD, 2, "leave", {}, T0 + H)
    events = await store.unprocessed_events()
    assert [event.id for event in events] == [join, leave]
    assert events[0].kind == "join" and events[0].payload == {"joined_at": T0.isoformat()}
    assert events[0].at == T0 and events[0].processed_at is None
    assert [event.id for event in await store.unprocessed_events(("leave",))] == [leave]
    assert await store.unprocessed_events(()) == []
    assert await store.events_without_decision() == 1
    await store.mark_event_processed(join, T0 + 2 * H)
    await store.mark_event_processed(join, T0 + 3 * H)  # the first time stays
    assert [event.id for event in await store.unprocessed_events()] == [leave]
    assert await store.events_without_decision() == 0
    assert await store.events_without_decision(("leave",)) == 1


async def test_record_decision_stores_everything_at_once(store: Store) -> None:
    event_id = await joined(store)
    due = T0 + 24 * H
    made = Decision(
        rule="newcomers",
        action=Action.LATER,
        misses=(Miss("known", "in_list: known", "no", parts=(Miss("a", "b", "c"),)),),
        due=due,
        notify="late",
        policy_version="abc123",
    )
    decision_id = await record_decision(
        store,
        GUILD,
        1,
        event_id,
        made,
        observed=False,
        at=T0,
        actions=[ActionSpec("dm", {"text": "see you soon"}, not_before=T0 + H)],
        timer=TimerSpec("later", due),
    )
    stored = await store.latest_decision(GUILD, 1)
    assert stored is not None and stored.id == decision_id
    assert (stored.rule, stored.action, stored.due, stored.notify) == (
        "newcomers",
        "later",
        due,
        "late",
    )
    assert stored.event_id == event_id and not stored.observed and stored.decided_at == T0
    assert stored.misses == made.misses  # nested parts included
    assert stored.explanation == made.explain()
    assert stored.to_decision() == made
    [action] = await store.actions_for(GUILD, 1)
    assert (action.kind, action.payload, action.status) == (
        "dm",
        {"text": "see you soon"},
        "pending",
    )
    assert action.decision_id == decision_id and action.not_before == T0 + H
    [timer] = await store.timers_for(GUILD, 1)
    assert (timer.kind, timer.due, timer.status, timer.decision_id) == (
        "later", due, "scheduled", decision_id,
    )  # fmt: skip
    assert await store.unprocessed_events() == []
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.last_decision_id == decision_id
    assert not member.declined_before


async def test_actions_default_to_now(store: Store) -> None:
    event_id = await joined(store)
    await record_decision(store,
        GUILD, 1, event_id, decision(), observed=False, at=T0,
        actions=[ActionSpec("add_role", {"role_id": 5})],
    )  # fmt: skip
    [action] = await store.due_actions(T0)
    assert action.not_before == T0 and action.payload == {"role_id": 5}


async def test_decline_marks_declined_before(store: Store) -> None:
    event_id = await joined(store)
    await record_decision(
        store, GUILD, 1, event_id, decision(Action.DECLINE, reply="no"), observed=False, at=T0
    )
    second = await store.record_event(GUILD, 1, "timer", {}, T0 + H)
    await record_decision(
        store, GUILD, 1, second, decision(Action.IGNORE), observed=True, at=T0 + H
    )
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.declined_before  # stays once set
    history = await store.decisions_for(GUILD, 1)
    assert [row.action for row in history] == [Action.DECLINE, Action.IGNORE]
    assert [row.observed for row in history] == [False, True]


@pytest.mark.parametrize(
    ("actions", "error"),
    [
        # the second action's payload cannot be encoded: the first was already inserted
        ([ActionSpec("dm", {"text": "hi"}), ActionSpec("dm", {"bad": object()})], TypeError),
        (
            [ActionSpec("add_role", {"role_id": 1}), ActionSpec("teleport", {})],
            sqlite3.IntegrityError,
        ),
    ],
)
async def test_failed_decision_leaves_nothing(
    store: Store, actions: list[ActionSpec], error: type[Exception]
) -> None:
    event_id = await joined(store)
    with pytest.raises(error):
        await record_decision(store,
            GUILD, 1, event_id, decision(Action.OBSERVE, due=T0 + H), observed=False, at=T0,
            actions=actions, timer=TimerSpec("observe", T0 + H),
        )  # fmt: skip
    assert await store.count_decisions() == 0
    assert await store.actions_for(GUILD, 1) == []
    assert await store.timers_for(GUILD, 1) == []
    assert [event.id for event in await store.unprocessed_events()] == [event_id]
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.last_decision_id is None
    # The connection is usable afterwards (the transaction was rolled back).
    await record_decision(store, GUILD, 1, event_id, decision(), observed=False, at=T0)
    assert await store.count_decisions() == 1


async def test_bad_timer_kind_rolls_back(store: Store) -> None:
    event_id = await joined(store)
    with pytest.raises(sqlite3.IntegrityError):
        await record_decision(store,
            GUILD, 1, event_id, decision(), observed=False, at=T0,
            actions=[ActionSpec("add_role", {"role_id": 1})], timer=TimerSpec("someday", T0),
        )  # fmt: skip
    assert await store.count_decisions() == 0 and await store.actions_for(GUILD, 1) == []


async def test_decision_without_event(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, False, T0)
    decision_id = await record_decision(store, GUILD, 1, None, decision(), observed=False, at=T0)
    latest = await store.latest_decision(GUILD, 1)
    assert latest is not None and latest.id == decision_id and latest.event_id is None


async def test_counts_and_latest(store: Store) -> None:
    assert await store.latest_decision(GUILD, 1) is None
    for user_id in (1, 2):
        await record_join(store, GUILD, user(user_id), T0, False, T0)
        await record_decision(store, GUILD, user_id, None, decision(), observed=False, at=T0)
    await record_decision(
        store, GUILD, 1, None, decision(Action.REVIEW, "hold"), observed=False, at=T0 + H
    )
    await record_decision(store, OTHER_GUILD, 1, None, decision(), observed=False, at=T0)
    assert await store.count_decisions() == 4
    assert await store.count_decisions(GUILD) == 3
    latest = await store.latest_decision(GUILD, 1)
    assert latest is not None and latest.rule == "hold" and latest.action is Action.REVIEW


async def test_pending_reviews_are_latest_review_decisions_of_present_members(
    store: Store,
) -> None:
    for user_id in (1, 2, 3, 4):
        await record_join(store, GUILD, user(user_id), T0, False, T0)
        await record_decision(
            store, GUILD, user_id, None, decision(Action.REVIEW, "hold"), observed=False, at=T0
        )
    await record_join(store, OTHER_GUILD, user(5), T0, False, T0)
    await record_decision(
        store, OTHER_GUILD, 5, None, decision(Action.REVIEW), observed=False, at=T0
    )
    # 2 was decided again (approved), 3 left: neither is pending any more.
    await record_decision(store, GUILD, 2, None, decision(), observed=False, at=T0 + H)
    await store.record_leave(GUILD, 3, T0 + H, timedelta(days=7))
    pending = await pending_reviews(store, GUILD)
    assert [(row.user_id, row.action) for row in pending] == [(1, "review"), (4, "review")]
    assert {
        row.user_id
        for row in await pending_reviews(
            store,
        )
    } == {1, 4, 5}
