"""Members: joins, leaves, rejoins, churn, follow state, activity and MemberFacts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.policy.facts import MemberFacts
from bot.store import Store
from tests.store.helpers import (
    GUILD,
    OTHER_GUILD,
    T0,
    followed_members,
    last_join_at,
    member_facts,
    record_join,
    user,
)

H = timedelta(hours=1)
WEEK = timedelta(days=7)


async def test_first_join_creates_a_present_member(store: Store) -> None:
    member = await record_join(
        store, GUILD, user(1, "alice", nick="Al", global_name="Alice"), T0, True, T0
    )
    assert (member.guild_id, member.user_id, member.username) == (GUILD, 1, "alice")
    assert member.display_name == "Al"
    assert member.present and member.pending
    assert (member.times_joined, member.times_rejoined) == (1, 0)
    assert member.joined_at == T0 and member.left_at is None
    assert await store.get_member(GUILD, 1) == member
    assert await store.get_member(OTHER_GUILD, 1) is None


async def test_leave_and_rejoin_count_and_refresh(store: Store) -> None:
    await record_join(store, GUILD, user(1, "old"), T0, False, T0)
    await store.bump_activity(GUILD, 1, messages=3, links=1)
    left = await store.record_leave(GUILD, 1, T0 + H, WEEK)
    assert left is not None and not left.present and left.left_at == T0 + H
    again = await record_join(store, GUILD, user(1, "new"), T0 + 2 * H, False, T0 + 2 * H)
    assert again.present and again.left_at is None
    assert (again.times_joined, again.times_rejoined) == (2, 1)
    assert again.username == "new" and again.joined_at == T0 + 2 * H
    # "since joining": this stay's counters start again
    assert (again.messages, again.links) == (0, 0)


async def test_repeated_join_event_is_not_counted_twice(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, True, T0)
    again = await record_join(store, GUILD, user(1, "renamed"), T0, False, T0 + H)
    assert (again.times_joined, again.times_rejoined) == (1, 0)
    assert again.username == "renamed" and not again.pending


async def test_join_with_a_missed_leave_counts_as_rejoin(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, False, T0)
    again = await record_join(store, GUILD, user(1), T0 + H, False, T0 + H)
    assert (again.times_joined, again.times_rejoined) == (2, 1)


async def test_repeated_leave_counts_churn_once(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, False, T0)
    await store.set_followed(GUILD, 1, True, T0 + H)
    first = await store.record_leave(GUILD, 1, T0 + 2 * H, WEEK)
    second = await store.record_leave(GUILD, 1, T0 + 3 * H, WEEK)
    assert first is not None and second is not None
    assert first.churned == second.churned == 1
    assert second.left_at == T0 + 2 * H


async def test_leave_of_unknown_member_is_none(store: Store) -> None:
    assert await store.record_leave(GUILD, 99, T0, WEEK) is None


async def test_churn_counted_only_within_window(store: Store) -> None:
    for user_id in (1, 2, 3):
        await record_join(store, GUILD, user(user_id), T0, False, T0)
        await store.set_followed(GUILD, user_id, True, T0)
    inside = await store.record_leave(GUILD, 1, T0 + WEEK - H, WEEK)
    edge = await store.record_leave(GUILD, 2, T0 + WEEK, WEEK)
    outside = await store.record_leave(GUILD, 3, T0 + WEEK + H, WEEK)
    assert inside is not None and inside.churned == 1 and not inside.followed
    assert edge is not None and edge.churned == 1
    assert outside is not None and outside.churned == 0 and not outside.followed
    assert outside.followed_at == T0  # history kept


async def test_leave_without_follow_is_not_churn(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, False, T0)
    left = await store.record_leave(GUILD, 1, T0 + H, WEEK)
    assert left is not None and left.churned == 0


async def test_churn_accumulates_over_rejoins(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, False, T0)
    for round_ in range(3):
        start = T0 + round_ * 10 * H
        if round_:
            await record_join(store, GUILD, user(1), start, False, start)
        await store.set_followed(GUILD, 1, True, start + H)
        await store.record_leave(GUILD, 1, start + 2 * H, WEEK)
    member = await store.get_member(GUILD, 1)
    assert member is not None
    assert (member.churned, member.times_rejoined, member.times_joined) == (3, 2, 3)


async def test_set_followed_and_the_owner_flag(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, False, T0)
    await store.set_followed(GUILD, 1, True, T0 + H)
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.followed and member.followed_at == T0 + H
    assert await followed_members(store, GUILD) == {1}

    # Repeating the follow (a role PUT done twice) keeps the first time.
    await store.set_followed(GUILD, 1, True, T0 + 2 * H)
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.followed_at == T0 + H

    # The bot's own unfollow does not set the owner flag.
    await store.set_followed(GUILD, 1, False, T0 + 3 * H)
    member = await store.get_member(GUILD, 1)
    assert member is not None and not member.followed and not member.unfollowed_by_owner

    # The owner taking the role away by hand is remembered ...
    await store.set_followed(GUILD, 1, True, T0 + 4 * H)
    await store.set_followed(GUILD, 1, False, T0 + 5 * H, by_owner=True)
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.unfollowed_by_owner and not member.followed
    assert await followed_members(store, GUILD) == set()

    # ... a bot follow does not clear it; the owner following by hand does.
    await store.set_followed(GUILD, 1, True, T0 + 6 * H)
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.unfollowed_by_owner
    await store.set_followed(GUILD, 1, True, T0 + 7 * H, by_owner=True)
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.followed and not member.unfollowed_by_owner


async def test_screening_done_clears_pending(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, True, T0)
    await store.record_screening_done(GUILD, 1)
    member = await store.get_member(GUILD, 1)
    assert member is not None and not member.pending


async def test_bump_activity_adds_and_ignores_unknown(store: Store) -> None:
    await record_join(store, GUILD, user(1), T0, False, T0)
    await store.bump_activity(GUILD, 1, messages=1, links=2, owner_mentions=1)
    await store.bump_activity(GUILD, 1, messages=1, invites=1, attachments=3, everyone_pings=1)
    await store.bump_activity(GUILD, 404, messages=5)  # never seen: nothing happens
    member = await store.get_member(GUILD, 1)
    assert member is not None
    assert (member.messages, member.links, member.invites, member.attachments) == (2, 2, 1, 3)
    assert (member.everyone_pings, member.owner_mentions) == (1, 1)
    assert await store.get_member(GUILD, 404) is None


async def test_known_members_and_last_join(store: Store) -> None:
    assert await last_join_at(store, GUILD) is None
    await record_join(store, GUILD, user(1), T0, False, T0)
    await record_join(store, GUILD, user(2), T0 + 2 * H, False, T0 + 2 * H)
    await record_join(store, GUILD, user(3), T0 + H, False, T0 + H)
    await record_join(store, OTHER_GUILD, user(4), T0 + 5 * H, False, T0 + 5 * H)
    await store.record_leave(GUILD, 3, T0 + 3 * H, WEEK)
    known = await store.known_members(GUILD)
    assert set(known) == {1, 2, 3}
    assert not known[3].present and known[2].present
    assert await last_join_at(store, GUILD) == T0 + 2 * H


async def test_member_facts_from_the_row(store: Store) -> None:
    await record_join(
        store, GUILD, user(1, "bob", nick="Bobby", created_at=T0 - 3 * H), T0, False, T0
    )
    await store.bump_activity(GUILD, 1, messages=4, owner_mentions=2)
    await store.set_followed(GUILD, 1, True, T0 + H)
    facts = await member_facts(
        store, GUILD, 1, now=T0 + 2 * H, observed=True, roles=frozenset({"Mutuals", "42"})
    )
    assert isinstance(facts, MemberFacts)
    assert (facts.id, facts.username, facts.display_name) == (1, "bob", "Bobby")
    assert facts.created_at == T0 - 3 * H and facts.joined_at == T0
    assert (facts.messages, facts.owner_mentions) == (4, 2)
    assert facts.followed and facts.observed
    assert facts.roles == frozenset({"Mutuals", "42"})
    assert await member_facts(store, GUILD, 2, now=T0, observed=False) is None


async def test_member_facts_recent_joins_within_surge_window(store: Store) -> None:
    minute = timedelta(minutes=1)
    now = T0 + 60 * minute
    # Joins at 30, 45, 51, 55 and 60 minutes; one at 61 (after now); one in another guild.
    for user_id, offset in ((1, 30), (2, 45), (3, 51), (4, 55), (5, 60), (6, 61)):
        at = T0 + offset * minute
        await record_join(store, GUILD, user(user_id), at, False, at)
    await record_join(store, OTHER_GUILD, user(9), now, False, now)
    facts = await member_facts(
        store, GUILD, 5, now=now, observed=False, surge_window=timedelta(minutes=10)
    )
    assert facts is not None
    assert sorted(facts.recent_joins) == [T0 + m * minute for m in (51, 55, 60)]
    # A wider window than the first query is read again from the database.
    wide = await member_facts(store, GUILD, 5, now=now, observed=False, surge_window=60 * minute)
    assert wide is not None
    assert sorted(wide.recent_joins) == [T0 + m * minute for m in (30, 45, 51, 55, 60)]
    # A join recorded after the cache was filled shows up.
    await record_join(store, GUILD, user(7), now, False, now)
    again = await member_facts(store, GUILD, 7, now=now, observed=False)
    assert again is not None and len(again.recent_joins) == 4


async def test_recent_joins_survive_a_reopen(db_path: Path) -> None:
    store = await Store.open(db_path)
    for user_id in range(1, 4):
        await record_join(store, GUILD, user(user_id), T0 + user_id * H, False, T0)
    await store.close()
    reopened = await Store.open(db_path)
    try:
        assert await reopened.recent_join_times(GUILD, T0 + H) == (T0 + 2 * H, T0 + 3 * H)
    finally:
        await reopened.close()


async def test_hostile_names_round_trip(store: Store) -> None:
    evil = "'); DROP TABLE members;--"
    await record_join(store,
        GUILD, user(1, evil, nick='"; DELETE FROM events; --', global_name="Robert'); --"),
        T0, False, T0,
    )  # fmt: skip
    event_id = await store.record_event(GUILD, 1, "join", {"name": evil}, T0)
    member = await store.get_member(GUILD, 1)
    assert member is not None and member.username == evil
    assert member.nick == '"; DELETE FROM events; --'
    assert (await store.unprocessed_events())[0].payload == {"name": evil}
    assert (await store.unprocessed_events())[0].id == event_id
    assert set(await store.known_members(GUILD)) == {1}
