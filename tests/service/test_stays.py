"""Stays (issue 10, defects 1 and 2): each join opens a stay and ends the one before, as a
leave does; nothing acts for a stay that has ended, whether the leave was seen or not."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

from bot.policy import Action
from bot.service.clock import ScaledClock
from bot.service.events import RoleChangedByHand
from bot.service.followers import FollowerService, PresentMember
from bot.service.outbox import DmLimits, Outbox
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import FIRED, NotYet
from bot.store import ActionSpec, OutboxRow, Store
from tests.service.helpers import (
    BOT,
    GUILD,
    OWNER,
    ROLE,
    T0,
    FakeDirectory,
    HookLog,
    RecordingGateway,
    timer_due,
    user,
)
from tests.store.helpers import record_join

HOUR = timedelta(hours=1)
RELAXED = DmLimits(per_day=100, spacing=timedelta(0), cooldown=timedelta(0))


async def settle(service: FollowerService) -> None:
    await asyncio.wait_for(service.flush(), 5)


async def followed_back(store: Store, service: FollowerService, uid: int, name: str) -> None:
    """A member joined at T0 - 2h and was followed back (the outbox gave the role)."""
    await service.member_joined(GUILD, user(uid, name), T0 - 2 * HOUR)
    await settle(service)
    (role,) = await store.actions_for(GUILD, uid)
    assert await store.claim_action(role.id, T0 - 2 * HOUR)
    assert await store.complete_action(role.id, T0 - 2 * HOUR)
    await store.set_followed(GUILD, uid, True, T0 - 2 * HOUR)


def of_kind(rows: list[OutboxRow], kind: str, status: str) -> list[OutboxRow]:
    return [row for row in rows if row.kind == kind and row.status == status]


# --- defect 1: a rejoin missed because its leave was never seen --------------------------


async def test_catch_up_takes_a_newer_joined_at_for_a_new_stay_and_blames_nobody(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    await followed_back(store, service, 10, "fb_fay")
    # While the bot was down Fay left and came back: same row "present", newer joined_at,
    # and (roles are lost on leaving) no follow-back role.
    present = [PresentMember(user(10, "fb_fay"), T0 - HOUR, False, False)]
    assert await service.catch_up(GUILD, present) == 1

    decisions = await store.decisions_for(GUILD, 10)
    assert [d.action for d in decisions] == [Action.FOLLOW_BACK, Action.FOLLOW_BACK]
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.present and member.stay == 2
    assert member.joined_at == T0 - HOUR and member.times_rejoined == 1
    assert not member.unfollowed_by_owner  # the owner did nothing by hand
    assert hooks_log.of(RoleChangedByHand) == []
    (again,) = of_kind(await store.actions_for(GUILD, 10), "add_role", "pending")
    assert again.stay == 2  # followed back again, for the new stay


async def test_a_leave_stamped_after_the_rejoin_does_not_hide_the_new_stay(
    store: Store, service: FollowerService
) -> None:
    await followed_back(store, service, 10, "fb_fay")
    # The leave is recorded late (now, T0), after Fay had already come back (T0 - 1h).
    await service.member_left(GUILD, 10)
    await settle(service)
    present = [PresentMember(user(10, "fb_fay"), T0 - HOUR, False, False)]
    assert await service.catch_up(GUILD, present) == 1
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.present and member.stay == 2
    assert len(await store.decisions_for(GUILD, 10)) == 2


async def test_a_leave_inferred_at_catch_up_is_dated_no_later_than_the_new_join(
    store: Store, service: FollowerService
) -> None:
    await followed_back(store, service, 10, "fb_fay")
    rejoined = T0 - HOUR
    await service.catch_up(GUILD, [PresentMember(user(10, "fb_fay"), rejoined, False, False)])
    (left_at,) = await store.database.run(lambda conn: leave_times(conn, 10))
    assert left_at <= rejoined.isoformat(timespec="microseconds")


def leave_times(conn: sqlite3.Connection, uid: int) -> list[str]:
    sql = "SELECT at FROM events WHERE guild_id = ? AND user_id = ? AND kind = 'leave'"
    return [raw[0] for raw in conn.execute(sql, (GUILD, uid)).fetchall()]


# --- defect 2: a rejoin seen live after a missed leave ------------------------------------


async def test_a_live_rejoin_after_a_missed_leave_ends_the_earlier_stay(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "later_lee"), T0 - 2 * HOUR)
    await settle(service)
    (stale_timer,) = await store.timers_for(GUILD, 10)
    # No leave was seen; the join of the next stay arrives live.
    await service.member_joined(GUILD, user(10, "later_lee"), T0 - HOUR)
    await settle(service)

    rows = await store.actions_for(GUILD, 10)
    old, new = [r for r in rows if r.stay == 1], [r for r in rows if r.stay == 2]
    assert [(r.kind, r.status) for r in old] == [("dm", "cancelled")]  # one notice, not two
    assert [(r.kind, r.status) for r in new] == [("dm", "pending")]
    timers = await store.timers_for(GUILD, 10)
    assert [(t.stay, t.status) for t in timers] == [(1, "cancelled"), (2, "scheduled")]

    # the earlier stay's timer, handed over anyway, gives no role
    await asyncio.wait_for(timer_due(service, stale_timer), 5)
    assert of_kind(await store.actions_for(GUILD, 10), "add_role", "pending") == []


async def test_a_row_of_an_ended_stay_is_never_claimed(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "fb_fay"), T0 - 2 * HOUR)
    await settle(service)
    (role,) = await store.actions_for(GUILD, 10)
    # In flight when the stay ended (so not cancelled), then back to pending by a retry.
    assert await store.claim_action(role.id, T0)
    await service.member_joined(GUILD, user(10, "fb_fay"), T0 - HOUR)
    await settle(service)
    assert await store.retry_action(role.id, T0, 503, "server error")

    assert not await store.claim_action(role.id, T0)
    dropped = await store.get_action(role.id)
    assert dropped is not None and dropped.status == "cancelled"


async def test_a_stale_join_of_an_earlier_stay_changes_nothing(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "fb_fay"), T0 - HOUR)
    await service.member_joined(GUILD, user(10, "fb_fay"), T0 - 2 * HOUR)  # seen late
    await settle(service)
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.stay == 1 and member.joined_at == T0 - HOUR
    assert len(await store.decisions_for(GUILD, 10)) == 1


async def test_the_role_given_to_an_ended_stay_does_not_mark_the_next_one_followed(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "fb_fay"), T0 - 2 * HOUR)
    await settle(service)
    (role,) = await store.actions_for(GUILD, 10)
    assert await store.claim_action(role.id, T0)
    await service.member_joined(GUILD, user(10, "fb_fay"), T0 - HOUR)  # missed leave
    await settle(service)
    assert await store.finish_action(role, T0)  # the PUT of the old stay completes late
    member = await store.get_member(GUILD, 10)
    assert member is not None and not member.followed


# --- at start-up, nothing acts for a stay before the catch-up has seen who is here --------


async def test_a_timer_due_before_catch_up_waits_and_never_acts_for_an_ended_stay(
    store: Store, policies: PolicyHolder
) -> None:
    service = FollowerService(
        store,
        policies,
        ScaledClock(T0, speed=1.0),
        FakeDirectory(),
        bot_user_id=BOT,
        churn_window=timedelta(days=7),
        catch_up_first=True,
    )
    service.start()
    try:
        await service.member_joined(GUILD, user(10, "later_lee"), T0 - 3 * HOUR)
        (timer,) = await store.timers_for(GUILD, 10)
        # Restarted: the timer is due, the guild streamed in, its catch-up not done yet.
        assert isinstance(await timer_due(service, timer), NotYet)
        assert of_kind(await store.actions_for(GUILD, 10), "add_role", "pending") == []
        # Lee had left and come back while the bot was down.
        present = [PresentMember(user(10, "later_lee"), T0 - HOUR, False, False)]
        await service.catch_up(GUILD, present)
        assert service.caught_up(GUILD)
        assert await timer_due(service, timer) == FIRED
        roles = of_kind(await store.actions_for(GUILD, 10), "add_role", "pending")
        assert roles == []  # the new stay waits for its own timer
    finally:
        await asyncio.wait_for(service.stop(), 5)


async def test_the_outbox_holds_rows_of_a_stay_until_their_guild_is_caught_up(
    store: Store,
) -> None:
    gateway = RecordingGateway()
    outbox = Outbox(store, gateway, ScaledClock(T0, speed=1.0), lambda: RELAXED)
    await record_join(store, GUILD, user(10, "fb_fay"), T0, False, T0)
    role = ActionSpec("add_role", {"role_id": ROLE})
    await store.enqueue_actions(GUILD, 10, [role], T0, stay=1)
    await store.enqueue_actions(GUILD, OWNER, [ActionSpec("owner_dm", {"text": "hi"})], T0)
    caught_up: set[int] = set()
    outbox.stay_ready = lambda guild_id: guild_id in caught_up
    await outbox.drain_once()
    assert [c.kind for c in gateway.calls] == ["dm"]  # the owner's notice is no stay's
    caught_up.add(GUILD)
    await outbox.drain_once()
    assert [c.kind for c in gateway.calls] == ["dm", "add_role"]


async def test_events_stored_before_a_crash_wait_for_the_guild_then_follow_back(
    store: Store, service: FollowerService, directory: FakeDirectory
) -> None:
    # what a crash leaves: a join stored, never decided
    event_id = await store.record_event(GUILD, 10, "join", {}, T0)
    await record_join(store, GUILD, user(10, "fb_cat"), T0, False, T0)
    directory.unknown_guilds.add(GUILD)  # start-up: the gateway has not streamed it in
    assert await service.resume_unprocessed() == 0
    assert await store.decisions_for(GUILD, 10) == []  # not decided without the role

    directory.unknown_guilds.clear()
    await service.catch_up(GUILD, [PresentMember(user(10, "fb_cat"), T0, False, False)])
    (decision,) = await store.decisions_for(GUILD, 10)
    assert decision.event_id == event_id and decision.action is Action.FOLLOW_BACK
    (role,) = await store.actions_for(GUILD, 10)
    assert (role.kind, role.payload["role_id"]) == ("add_role", ROLE)
