"""The digest's store: one digest per local day, one timer, stored pages, content reads."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.policy.decision import Action
from bot.store import ActionSpec, OutboxKind, Store, TimerKind, TimerSpec
from tests.store.helpers import GUILD, T0, decision, record_decision, record_join, user

DAY = date(2026, 3, 1)


async def _scheduled_digest_timers(store: Store) -> list[tuple[int, str]]:
    sql = "SELECT id, due FROM timers WHERE kind = 'digest' AND status = 'scheduled'"
    return await store.database.run(lambda conn: conn.execute(sql).fetchall())


async def _digest_rows(store: Store) -> list[dict[str, object]]:
    sql = "SELECT payload FROM outbox WHERE kind = 'digest'"
    rows = await store.database.run(lambda conn: conn.execute(sql).fetchall())
    return [json.loads(r[0]) for r in rows]


async def test_a_local_day_gets_one_scheduled_digest_even_if_asked_twice(store: Store) -> None:
    send = (1, ActionSpec(OutboxKind.DIGEST, {"snapshot": 1, "page": 0}))
    first = await store.reserve_digest_snapshot(DAY, "scheduled", T0)
    assert await store.complete_digest(first, [{"content": "a"}], T0, sent_for=DAY, send=send)
    second = await store.reserve_digest_snapshot(DAY, "scheduled", T0)
    again = await store.complete_digest(second, [{"content": "b"}], T0, sent_for=DAY, send=send)
    assert again is False
    assert len(await _digest_rows(store)) == 1
    state = await store.digest_state()
    assert state.last_sent == DAY and state.last_at == T0
    # An earlier day after a later one is refused too (a clock moved back).
    third = await store.reserve_digest_snapshot(DAY - timedelta(days=1), "scheduled", T0)
    assert not await store.complete_digest(
        third, [], T0, sent_for=DAY - timedelta(days=1), send=None
    )
    # On demand (no date): always stored, the state untouched.
    ask = await store.reserve_digest_snapshot(DAY, "on_demand", T0 + timedelta(hours=1))
    assert await store.complete_digest(ask, [{"content": "c"}], T0, sent_for=None, send=send)
    assert (await store.digest_state()).last_sent == DAY
    assert len(await _digest_rows(store)) == 2


async def test_stored_pages_come_back_one_at_a_time(store: Store) -> None:
    snapshot = await store.reserve_digest_snapshot(DAY, "scheduled", T0)
    pages = [{"embeds": [{"title": f"page {i}"}], "components": []} for i in range(3)]
    await store.complete_digest(snapshot, pages, T0, sent_for=DAY, send=None)
    assert await store.digest_page(snapshot, 2) == (pages[2], 3)
    assert await store.digest_page(snapshot, 3) == (None, 3)
    assert await store.digest_page(snapshot + 99, 0) == (None, 0)
    stored = await store.digest_snapshot(snapshot)
    assert stored is not None and stored.pages == pages and stored.local_date == DAY


async def test_exactly_one_digest_timer_is_kept(store: Store) -> None:
    due = T0 + timedelta(hours=5)
    assert await store.replace_digest_timer(due, T0) is True
    assert await store.replace_digest_timer(due, T0) is False  # already there
    assert len(await _scheduled_digest_timers(store)) == 1
    later = due + timedelta(days=1)
    assert await store.replace_digest_timer(later, T0) is True
    timers = await _scheduled_digest_timers(store)
    assert len(timers) == 1 and timers[0][1].startswith(later.strftime("%Y-%m-%dT%H"))
    assert await store.next_timer_due() == later


async def test_pending_reviews_are_the_held_members_still_waiting_oldest_first(
    store: Store,
) -> None:
    for uid, minutes in ((11, 30), (12, 10), (13, 20)):
        await record_join(store, GUILD, user(uid, f"held{uid}"), T0, False, T0)
        await record_decision(
            store,
            GUILD,
            uid,
            None,
            decision(Action.REVIEW, "new accounts"),
            observed=False,
            at=T0 + timedelta(minutes=minutes),
        )
    # 13 was decided again later: no longer pending.
    await record_decision(
        store,
        GUILD,
        13,
        None,
        decision(Action.FOLLOW_BACK),
        observed=False,
        at=T0 + timedelta(hours=1),
    )
    reviews = await store.digest_reviews()
    assert [(member, rule) for _, member, rule, _ in reviews] == [
        ("held12", "new accounts"),
        ("held11", "new accounts"),
    ]
    assert reviews[0][3] == T0 + timedelta(minutes=10)  # when it was held, oldest first


async def test_timers_due_in_the_window_with_the_member_and_rule(store: Store) -> None:
    for uid, hours in ((21, 3), (22, 30)):
        await record_join(store, GUILD, user(uid, f"late{uid}"), T0, False, T0)
        due = T0 + timedelta(hours=hours)
        await record_decision(
            store,
            GUILD,
            uid,
            None,
            decision(Action.LATER, "slow and steady", due=due),
            observed=False,
            at=T0,
            timer=TimerSpec(TimerKind.LATER, due),
        )
    items = await store.digest_timers(TimerKind.LATER, T0, T0 + timedelta(days=1))
    assert [(t.member, t.rule) for t in items] == [("late21", "slow and steady")]
    assert await store.digest_timers(TimerKind.OBSERVE, T0, T0 + timedelta(days=2)) == []


async def test_refused_and_uncertain_dms_and_roles_but_not_owner_messages_or_replies(
    store: Store,
) -> None:
    await record_join(store, GUILD, user(31, "closed_dms"), T0, False, T0)
    dm, role, owner, reply = await store.enqueue_actions(
        GUILD,
        31,
        [
            ActionSpec(OutboxKind.DM, {"text": "hi"}),
            ActionSpec(OutboxKind.ADD_ROLE, {"role_id": 5}),
            ActionSpec(OutboxKind.OWNER_DM, {"text": "owner"}),
            ActionSpec(OutboxKind.REPLY, {"text": "thanks", "channel_id": 1, "message_id": 2}),
        ],
        T0,
    )
    later = T0 + timedelta(minutes=5)
    for outbox_id in (dm, role, owner, reply):
        assert await store.claim_action(outbox_id, later)
    await store.fail_action(dm, later, 50007, "Cannot send messages to this user")
    await store.fail_action(owner, later, 50007, "Cannot send messages to this user")
    # A refused reply to a mention is the mentions section's (unanswered), not this one's.
    await store.fail_action(reply, later, 50013, "Missing Permissions")
    await store.mark_uncertain(role, later, "sent or not before a crash")
    items = await store.digest_failed_actions(T0)
    assert sorted((a.kind, a.status, a.member) for a in items) == [
        ("add_role", "uncertain", "closed_dms"),
        ("dm", "failed", "closed_dms"),
    ]
    assert await store.digest_failed_actions(later) == []  # only newer than `since`


async def test_clean_up_candidates_silent_and_early_leavers(store: Store) -> None:
    for uid in (41, 42, 43):
        await record_join(store, GUILD, user(uid, f"m{uid}"), T0, False, T0)
        await store.set_followed(GUILD, uid, True, T0)
    await store.bump_activity(GUILD, 42, messages=3)  # talks: no suggestion
    await store.record_leave(GUILD, 43, T0 + timedelta(days=1), timedelta(days=7))
    now = T0 + timedelta(days=40)
    items = await store.cleanup_candidates(now - timedelta(days=30), T0)
    assert [(c.member, c.silent) for c in items] == [("m41", True), ("m43", False)]
    # Followed back too recently to call silent; the leave is older than the window.
    assert await store.cleanup_candidates(T0 - timedelta(days=1), T0 + timedelta(days=2)) == []


async def test_counts_by_decision_and_rule_and_per_action(store: Store) -> None:
    for uid, action, rule in ((51, Action.FOLLOW_BACK, "a"), (52, Action.FOLLOW_BACK, "a"),
                              (53, Action.DECLINE, "b")):  # fmt: skip
        await record_join(store, GUILD, user(uid), T0, False, T0)
        await record_decision(
            store, GUILD, uid, None, decision(action, rule), observed=False, at=T0
        )
    end = T0 + timedelta(seconds=1)
    counts = await store.decision_counts(T0 - timedelta(hours=1), end)
    assert sorted(counts) == [("decline", "b", 1), ("follow_back", "a", 2)]
    per_day = await store.action_counts_by_range([(T0 - timedelta(days=1), T0), (T0, end)])
    assert per_day == [{}, {"follow_back": 2, "decline": 1}]
