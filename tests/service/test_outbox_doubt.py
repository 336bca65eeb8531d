"""Issue 10, defects 4 and 5: a failed read-back of a role change in doubt is "unknown"
(read again, never a second PUT, never the owner's hand), and DMs never wait behind role
changes (two lanes)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.service.actions import UNKNOWN_MEMBER, ActionFailed
from bot.service.clock import ScaledClock
from bot.service.events import RoleChangedByHand
from bot.service.followers import FollowerService, PresentMember
from bot.service.outbox import READ_BACK_TRIES, DmLimits, Outbox
from bot.store import ActionSpec, OutboxRow, Store
from tests.service.helpers import GUILD, ROLE, T0, HookLog, RecordingGateway, eventually, user
from tests.store.helpers import record_join

RELAXED = DmLimits(per_day=100, spacing=timedelta(0), cooldown=timedelta(0))
SERVER_ERROR = ActionFailed(503, None, "Service Unavailable")


class Crash(RuntimeError):
    """The process dying between the request and marking it done."""


async def crash(row: OutboxRow) -> None:
    raise Crash(f"killed after sending outbox {row.id}")


def make_outbox(store: Store, gateway: RecordingGateway, clock: ScaledClock, **kw: Any) -> Outbox:
    return Outbox(store, gateway, clock, lambda: RELAXED, **kw)


async def role_in_doubt(store: Store, gateway: RecordingGateway, clock: ScaledClock) -> int:
    """A follow-back role given, then the bot killed before it recorded it done."""
    await record_join(store, GUILD, user(10, "fb_fay"), T0, False, T0)
    member = await store.get_member(GUILD, 10)
    assert member is not None
    action = ActionSpec("add_role", {"role_id": ROLE})
    (outbox_id,) = await store.enqueue_actions(GUILD, 10, [action], T0, stay=member.stay)
    with pytest.raises(Crash):
        await make_outbox(store, gateway, clock, after_send=crash).drain_once()
    return outbox_id


async def status(store: Store, outbox_id: int) -> str:
    row = await store.get_action(outbox_id)
    assert row is not None
    return row.status


# --- defect 4: a failed read-back is "unknown" -------------------------------------------


async def test_a_failed_read_back_is_read_again_and_the_role_is_never_given_twice(
    store: Store,
) -> None:
    gateway, clock = RecordingGateway(), ScaledClock(T0, speed=1000.0)
    outbox_id = await role_in_doubt(store, gateway, clock)
    gateway.fail("has_role", SERVER_ERROR, SERVER_ERROR)  # GET member answers 503, twice

    restarted = make_outbox(store, gateway, clock)
    await restarted.recover()
    assert await status(store, outbox_id) == "sending"  # still in doubt: unknown, not "no"
    restarted.start()
    try:

        async def settled() -> bool:
            return await status(store, outbox_id) == "done"

        await eventually(settled, timeout=5)
    finally:
        await asyncio.wait_for(restarted.stop(), 5)
    assert len(gateway.of("has_role")) == 3  # read until it answered
    assert len(gateway.of("add_role")) == 1  # never repeated on a guess
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.followed


async def test_a_read_back_that_never_answers_leaves_the_row_uncertain_not_repeated(
    store: Store,
) -> None:
    gateway, clock = RecordingGateway(), ScaledClock(T0, speed=100_000.0)
    outbox_id = await role_in_doubt(store, gateway, clock)
    gateway.fail("has_role", *[SERVER_ERROR] * READ_BACK_TRIES)

    restarted = make_outbox(store, gateway, clock)
    await restarted.recover()
    restarted.start()
    try:

        async def given_up() -> bool:
            return await status(store, outbox_id) == "uncertain"

        await eventually(given_up, timeout=5)
    finally:
        await asyncio.wait_for(restarted.stop(), 5)
    assert len(gateway.of("has_role")) == READ_BACK_TRIES
    assert len(gateway.of("add_role")) == 1


async def test_a_member_gone_settles_the_doubt_without_a_second_put(store: Store) -> None:
    gateway, clock = RecordingGateway(), ScaledClock(T0, speed=1.0)
    outbox_id = await role_in_doubt(store, gateway, clock)
    gateway.fail("has_role", ActionFailed(404, UNKNOWN_MEMBER, "Unknown Member"))
    restarted = make_outbox(store, gateway, clock)
    await restarted.recover()
    await restarted.drain_once()
    assert await status(store, outbox_id) == "cancelled"
    assert len(gateway.of("add_role")) == 1


async def test_catch_up_does_not_take_the_bots_own_role_in_doubt_for_the_owners_hand(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    gateway, clock = RecordingGateway(), ScaledClock(T0, speed=1.0)
    await service.member_joined(GUILD, user(10, "fb_fay"), T0)
    await service.flush()
    with pytest.raises(Crash):
        await make_outbox(store, gateway, clock, after_send=crash).drain_once()
    # At the restart, the read-back has failed so far; the member holds the role.
    present = [PresentMember(user(10, "fb_fay"), T0, False, True)]
    await service.catch_up(GUILD, present)
    assert hooks_log.of(RoleChangedByHand) == []
    member = await store.get_member(GUILD, 10)
    assert member is not None and not member.unfollowed_by_owner


# --- defect 5: DMs do not wait behind role changes ----------------------------------------


@dataclass
class SlowRoles(RecordingGateway):
    """Role changes hang until released, as under heavy rate limits."""

    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def add_role(self, guild_id: int, user_id: int, role_id: int, reason: str) -> None:
        await self.release.wait()
        await super().add_role(guild_id, user_id, role_id, reason)


async def test_a_dm_goes_out_while_role_changes_are_still_waiting(store: Store) -> None:
    gateway, clock = SlowRoles(), ScaledClock(T0, speed=1.0)
    for uid in (10, 11):
        await record_join(store, GUILD, user(uid, f"m{uid}"), T0, False, T0)
        role = ActionSpec("add_role", {"role_id": ROLE})
        await store.enqueue_actions(GUILD, uid, [role], T0)
    await store.enqueue_actions(GUILD, 12, [ActionSpec("dm", {"text": "hi"})], T0)
    outbox = make_outbox(store, gateway, clock)
    outbox.start()
    try:

        async def dm_sent() -> bool:
            return len(gateway.of("dm")) == 1

        await eventually(dm_sent, timeout=2)
        assert gateway.of("add_role") == []  # the role changes were still waiting
        gateway.release.set()

        async def roles_done() -> bool:
            return len(gateway.of("add_role")) == 2

        await eventually(roles_done, timeout=5)
    finally:
        gateway.release.set()
        await asyncio.wait_for(outbox.stop(), 5)
