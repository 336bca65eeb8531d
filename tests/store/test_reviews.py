"""Held reviews and the owner's decisions: a verdict is written once, whoever clicks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.policy.decision import Action
from bot.store import ActionSpec, OutboxKind, OwnerDecision, Store
from tests.store.helpers import GUILD, T0, decision, join_event, record_decision, user

ROLE = ActionSpec(OutboxKind.ADD_ROLE, {"role_id": 7, "reason": "approved"})


async def held(store: Store, user_id: int) -> int:
    event = await join_event(store, GUILD, user(user_id), T0)
    return await record_decision(
        store, GUILD, user_id, event, decision(Action.REVIEW, "strangers"), observed=False, at=T0
    )


def owner(verdict: str, actor: int, actions: tuple[ActionSpec, ...] = ()) -> OwnerDecision:
    return OwnerDecision(verdict, actor, "button", actions, "v2")


async def test_pending_reviews_newest_first_with_a_total(store: Store) -> None:
    ids = [await held(store, uid) for uid in (1, 2, 3)]
    page, total = await store.pending_reviews([GUILD], limit=2)
    assert total == 3
    assert [r.decision_id for r in page] == ids[::-1][:2]
    assert page[0].username == "user3" and page[0].rule == "strangers"
    rest, _ = await store.pending_reviews([GUILD], limit=2, offset=2)
    assert [r.decision_id for r in rest] == [ids[0]]


async def test_concurrent_verdicts_act_once_and_the_losers_learn_who_won(store: Store) -> None:
    review = await held(store, 1)
    at = T0 + timedelta(minutes=5)
    outcomes = await asyncio.gather(
        store.decide_review(review, owner("approve", 11, (ROLE,)), at),
        store.decide_review(review, owner("approve", 12, (ROLE,)), at),
        store.decide_review(review, owner("decline", 13), at),
    )
    winners = [o for o in outcomes if o.decided]
    assert len(winners) == 1
    winner = winners[0].verdict
    assert winner is not None
    for lost in (o for o in outcomes if not o.decided):
        assert lost.verdict == winner  # told who decided, and when
    actions = await store.actions_for(GUILD, 1)
    assert len(actions) == (1 if winner.verdict == "approve" else 0)
    owner_actions = await store.owner_actions_for(GUILD, 1)
    assert [(a.action, a.actor_id) for a in owner_actions] == [(winner.verdict, winner.decided_by)]
    assert await store.pending_reviews([GUILD]) == ([], 0)


async def test_the_owners_decision_keeps_its_policy_version(store: Store) -> None:
    review = await held(store, 1)
    outcome = await store.decide_review(review, owner("decline", 11), T0)
    latest = await store.latest_decision(GUILD, 1)
    assert latest is not None and latest.id == outcome.owner_decision_id
    assert (latest.rule, latest.action, latest.policy_version) == ("owner", Action.DECLINE, "v2")


async def test_a_follow_by_hand_settles_the_pending_review(store: Store) -> None:
    review = await held(store, 1)
    made = OwnerDecision("follow", 11, "command", (ROLE,), "v2")
    await store.decide_by_hand(GUILD, 1, made, T0)
    late = await store.decide_review(review, owner("decline", 12), T0 + timedelta(hours=1))
    assert not late.decided and late.verdict is not None
    assert (late.verdict.verdict, late.verdict.decided_by, late.verdict.via) == (
        "follow",
        11,
        "command",
    )


async def test_a_review_superseded_by_a_newer_decision_is_no_longer_pending(
    store: Store,
) -> None:
    review = await held(store, 1)
    await record_decision(store, GUILD, 1, None, decision(), observed=True, at=T0)
    outcome = await store.decide_review(review, owner("approve", 11, (ROLE,)), T0)
    assert not outcome.decided and outcome.exists and outcome.verdict is None
    assert await store.actions_for(GUILD, 1) == []
    missing = await store.decide_review(999, owner("approve", 11), T0)
    assert not missing.exists


async def test_stats_count_decisions_by_rule_and_action_in_the_period(store: Store) -> None:
    await held(store, 1)
    await held(store, 2)
    counted = await store.stats(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert counted.by_rule == (("strangers", "review", 2),)
    assert (await store.stats(T0 + timedelta(hours=1), T0 + timedelta(hours=2))).by_rule == ()


async def test_settings_command_hashes_and_owner_actions_are_stored(store: Store) -> None:
    await store.set_setting("paused", "1", T0, by=11, action="pause")
    await store.record_commands_synced(GUILD, "abc", T0)
    assert await store.get_setting("paused") == "1"
    assert await store.synced_commands_hash(GUILD) == "abc"
    assert await store.synced_commands_hash(GUILD + 1) is None
    (action,) = await store.recent_owner_actions()
    assert (action.action, action.actor_id) == ("pause", 11)
