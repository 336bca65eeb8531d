"""The durable outbox against a real SQLite store and a recording fake of Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.service.actions import ActionFailed
from bot.service.clock import ScaledClock
from bot.service.events import ActionDone, ActionRefused, Event, EventBus
from bot.service.outbox import (
    NONCE_WINDOW,
    DmLimits,
    Outbox,
    day_start,
    dm_limits_from,
)
from bot.store import ActionSpec, OutboxKind, OutboxRow, Store, UserInfo
from tests.service.helpers import (
    GUILD,
    ROLE,
    T0,
    RecordingGateway,
    eventually,
    user,
    write_policy,
)
from tests.store.helpers import record_join

BERLIN = "Europe/Berlin"
RELAXED = DmLimits(per_day=100, spacing=timedelta(0), cooldown=timedelta(0), timezone=BERLIN)


class Crash(RuntimeError):
    """Stands for the process dying between the request and marking it done."""


async def crash(row: OutboxRow) -> None:
    raise Crash(f"crash after sending outbox {row.id}")


def make_outbox(
    store: Store,
    gateway: RecordingGateway,
    clock: ScaledClock,
    limits: DmLimits = RELAXED,
    **options: Any,
) -> Outbox:
    return Outbox(store, gateway, clock, lambda: limits, **options)


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


@pytest.fixture
def clock() -> ScaledClock:
    return ScaledClock(T0, speed=1.0)


async def joined(store: Store, user_id: int, name: str = "member") -> None:
    await record_join(store, GUILD, user(user_id, name), T0, False, T0)


async def queue(store: Store, user_id: int, kind: str, **payload: Any) -> int:
    if kind in ("add_role", "remove_role"):
        payload.setdefault("role_id", ROLE)
    if kind == "reply":
        payload.setdefault("channel_id", 77)
        payload.setdefault("message_id", 78)
    payload.setdefault("text", "hello")
    (outbox_id,) = await store.enqueue_actions(GUILD, user_id, [ActionSpec(kind, payload)], T0)
    return outbox_id


async def row(store: Store, outbox_id: int) -> OutboxRow:
    found = await store.get_action(outbox_id)
    assert found is not None
    return found


# --- pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # winter (CET, +01:00): local midnight is 23:00 UTC the day before
        (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), datetime(2026, 2, 28, 23, 0, tzinfo=UTC)),
        # 29 March 2026, last Sunday of March: the day began in CET though it is CEST now
        (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
        # 30 March: the first whole summer day starts at 22:00 UTC
        (datetime(2026, 3, 30, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        # 25 October 2026, last Sunday of October: the day began in CEST
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),
        # just after local midnight, while UTC is still on the previous date
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
    ],
)
def test_day_start_is_local_midnight_across_dst(now: datetime, expected: datetime) -> None:
    start = day_start(now, BERLIN)
    assert start == expected
    local = start.astimezone(start.tzinfo)
    assert (local.hour, local.minute) == (0, 0)
    assert start <= now < start + timedelta(hours=25)


# --- role changes --------------------------------------------------------------------------


async def test_an_add_role_done_marks_the_member_followed(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "add_role", reason="follow back")
    told: list[Event] = []
    events = EventBus()
    events.subscribe(told.append)
    outbox = make_outbox(store, gateway, clock, events=events)
    assert await outbox.drain_once() == 1

    assert [(c.user_id, c.args[1]) for c in gateway.of("add_role")] == [(10, ROLE)]
    settled = await row(store, outbox_id)
    assert (settled.status, settled.attempts) == ("done", 1)
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.followed and member.followed_at is not None
    assert [(type(e), e.outbox_id) for e in told] == [(ActionDone, outbox_id)]  # type: ignore[union-attr]
    assert await outbox.drain_once() == 0  # nothing left: at most once
    assert len(gateway.of("add_role")) == 1


async def test_a_remove_role_done_marks_the_member_unfollowed(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    await store.set_followed(GUILD, 10, True, T0)
    await queue(store, 10, "remove_role")
    await make_outbox(store, gateway, clock).drain_once()
    member = await store.get_member(GUILD, 10)
    assert member is not None and not member.followed
    assert len(gateway.of("remove_role")) == 1


async def test_server_errors_retry_with_growing_backoff_then_succeed(
    store: Store, gateway: RecordingGateway
) -> None:
    speed = 100.0  # 10 virtual seconds of backoff pass in 0.1 s
    clock = ScaledClock(T0, speed=speed)
    await joined(store, 10)
    outbox_id = await queue(store, 10, "add_role")
    gateway.fail("add_role", ActionFailed(503, None, "down"), ActionFailed(502, None, "bad gw"))
    outbox = make_outbox(store, gateway, clock, retry_base=timedelta(seconds=10))

    waits = []
    for attempt in (1, 2):
        await outbox.drain_once()
        pending = await row(store, outbox_id)
        assert (pending.status, pending.attempts) == ("pending", attempt)
        assert pending.last_error is not None and "HTTP 50" in pending.last_error
        waits.append(pending.not_before - pending.updated_at)
        assert await outbox.drain_once() == 0  # not before the backoff has passed
        real_wait = (pending.not_before - clock.now()).total_seconds() / speed
        await asyncio.sleep(max(real_wait, 0) + 0.01)

    # 10 s, then 20 s (virtual), with a little slack for the time the call took
    assert timedelta(seconds=10) <= waits[0] < timedelta(seconds=15)
    assert timedelta(seconds=20) <= waits[1] < timedelta(seconds=25)

    await outbox.drain_once()
    settled = await row(store, outbox_id)
    assert (settled.status, settled.attempts) == ("done", 3)
    assert len(gateway.of("add_role")) == 3
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.followed


async def test_retry_after_from_a_429_is_honoured(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "add_role")
    gateway.fail("add_role", ActionFailed(429, None, "slow down", retry_after=90.0))
    await make_outbox(store, gateway, clock).drain_once()
    pending = await row(store, outbox_id)
    assert pending.status == "pending"
    assert timedelta(seconds=90) <= pending.not_before - pending.updated_at < timedelta(seconds=95)


async def test_network_errors_are_transient(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "add_role")
    gateway.fail("add_role", ConnectionResetError("reset by peer"))
    outbox = make_outbox(store, gateway, clock, retry_base=timedelta(0))
    await outbox.drain_once()
    assert (await row(store, outbox_id)).status == "pending"
    await outbox.drain_once()
    assert (await row(store, outbox_id)).status == "done"


async def test_transient_failures_give_up_after_max_attempts(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "add_role")
    gateway.fail("add_role", *(ActionFailed(500, None, "boom") for _ in range(5)))
    outbox = make_outbox(store, gateway, clock, max_attempts=3, retry_base=timedelta(0))
    for _ in range(5):
        await outbox.drain_once()
    failed = await row(store, outbox_id)
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert len(gateway.of("add_role")) == 3
    member = await store.get_member(GUILD, 10)
    assert member is not None and not member.followed


async def test_missing_permissions_is_failed_for_good_without_a_retry(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "add_role")
    gateway.fail("add_role", ActionFailed(403, 50013, "Missing Permissions"))
    outbox = make_outbox(store, gateway, clock)
    await outbox.drain_once()
    await outbox.drain_once()
    failed = await row(store, outbox_id)
    assert (failed.status, failed.last_error_code) == ("failed", 50013)
    assert len(gateway.of("add_role")) == 1


# --- messages ---------------------------------------------------------------------------


async def test_closed_dms_are_failed_for_good_with_the_code_and_never_retried(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "dm", text="hi")
    gateway.fail("dm", ActionFailed(403, 50007, "Cannot send messages to this user"))
    told: list[Event] = []
    events = EventBus()
    events.subscribe(told.append)
    outbox = make_outbox(store, gateway, clock, events=events, retry_base=timedelta(0))
    await outbox.drain_once()
    assert await outbox.drain_once() == 0

    failed = await row(store, outbox_id)
    assert (failed.status, failed.last_error_code, failed.attempts) == ("failed", 50007, 1)
    assert len(gateway.of("dm")) == 1
    assert await store.dms_sent_since(T0 - timedelta(days=1)) == 0  # not counted as sent
    (refused,) = told  # one event: failed for good, with Discord's code
    assert isinstance(refused, ActionRefused)
    assert (refused.kind, refused.code, refused.user_id) == ("dm", 50007, 10)
    assert "50007" in refused.detail and refused.member == "member"


async def test_a_sent_dm_uses_the_row_nonce_and_is_logged(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "dm", text="welcome")
    await make_outbox(store, gateway, clock).drain_once()
    (call,) = gateway.of("dm")
    assert call.args == ("welcome", store.message_nonce(outbox_id))
    done = await row(store, outbox_id)
    assert done.status == "done" and done.result == {"message_id": 901}
    assert await store.dms_sent_since(T0 - timedelta(days=1)) == 1


@pytest.mark.parametrize(
    ("start", "next_midnight"),
    [
        (datetime(2026, 3, 1, 12, 0, tzinfo=UTC), datetime(2026, 3, 1, 23, 0, tzinfo=UTC)),
        # the spring-forward day is 23 hours long
        (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
        # the fall-back day is 25 hours long
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
    ],
)
async def test_the_daily_dm_cap_defers_to_the_next_local_midnight(
    store: Store, gateway: RecordingGateway, start: datetime, next_midnight: datetime
) -> None:
    clock = ScaledClock(start, speed=1.0)
    limits = DmLimits(per_day=1, spacing=timedelta(0), cooldown=timedelta(0), timezone=BERLIN)
    await record_join(store, GUILD, user(10, "a"), start, False, start)
    await record_join(store, GUILD, user(11, "b"), start, False, start)
    (first, second) = await store.enqueue_actions(
        GUILD, 10, [ActionSpec("dm", {"text": "one"})], start
    ) + await store.enqueue_actions(GUILD, 11, [ActionSpec("dm", {"text": "two"})], start)
    outbox = make_outbox(store, gateway, clock, limits)
    await outbox.drain_once()

    assert [c.user_id for c in gateway.of("dm")] == [10]
    assert (await row(store, first)).status == "done"
    deferred = await row(store, second)
    assert deferred.status == "pending"  # deferred, never dropped
    assert deferred.attempts == 0
    assert deferred.not_before == next_midnight
    assert await outbox.drain_once() == 0
    assert await store.next_action_due() == next_midnight


async def test_dm_spacing_defers_the_second_dm(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    limits = DmLimits(per_day=10, spacing=timedelta(minutes=1), cooldown=timedelta(0))
    await joined(store, 10)
    await joined(store, 11)
    await queue(store, 10, "dm")
    second = await queue(store, 11, "dm")
    await make_outbox(store, gateway, clock, limits).drain_once()
    assert len(gateway.of("dm")) == 1
    deferred = await row(store, second)
    assert deferred.status == "pending"
    gap = deferred.not_before - clock.now()
    assert timedelta(seconds=55) < gap <= timedelta(minutes=1)


async def test_a_dm_to_the_owner_goes_out_beside_the_follower_dm_limits(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    closed = DmLimits(per_day=0, spacing=timedelta(days=1), cooldown=timedelta(days=1))
    await joined(store, 10)
    follower = await queue(store, 10, "dm", text="to a follower")
    (notice,) = await store.enqueue_actions(
        0, 1, [ActionSpec(OutboxKind.OWNER_DM, {"text": "to the owner"})], T0
    )
    await make_outbox(store, gateway, clock, closed).drain_once()
    (call,) = gateway.of("dm")
    assert (call.user_id, call.args) == (1, ("to the owner", store.message_nonce(notice)))
    assert (await row(store, notice)).status == "done"
    assert (await row(store, follower)).status == "pending"  # the cap holds for followers
    assert await store.dms_sent_since(T0 - timedelta(days=1)) == 0  # and is not used up


async def test_dm_limits_come_from_the_policy_in_force(tmp_path: Path) -> None:
    limits = dm_limits_from(write_policy(tmp_path / "policy.yaml"))()
    assert limits.per_day == 40
    assert limits.spacing == timedelta(seconds=1)
    assert limits.cooldown == timedelta(days=1)
    assert limits.timezone == "Europe/Berlin"


# --- crash recovery --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dm", "reply"])
async def test_a_young_in_doubt_message_is_resent_with_the_same_nonce(
    store: Store, gateway: RecordingGateway, clock: ScaledClock, kind: str
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, kind, text="hi")
    with pytest.raises(Crash):
        await make_outbox(store, gateway, clock, after_send=crash).drain_once()
    assert (await row(store, outbox_id)).status == "sending"
    first_nonce = gateway.calls[-1].args[-1]

    restarted = make_outbox(store, gateway, clock)
    await restarted.recover()
    assert (await row(store, outbox_id)).status == "pending"
    await restarted.drain_once()

    sends = gateway.of(kind)
    assert len(sends) == 2
    assert sends[1].args[-1] == first_nonce == store.message_nonce(outbox_id)  # Discord dedupes
    assert (await row(store, outbox_id)).status == "done"


@pytest.mark.parametrize("kind", ["dm", "reply"])
async def test_an_old_in_doubt_message_is_uncertain_and_never_resent(
    store: Store, gateway: RecordingGateway, clock: ScaledClock, kind: str
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, kind, text="hi")
    with pytest.raises(Crash):
        await make_outbox(store, gateway, clock, after_send=crash).drain_once()

    # the bot comes back well after Discord forgot the nonce
    later = ScaledClock(T0 + NONCE_WINDOW + timedelta(hours=1), speed=1.0)
    restarted = make_outbox(store, gateway, later)
    await restarted.recover()
    assert await restarted.drain_once() == 0

    settled = await row(store, outbox_id)
    assert settled.status == "uncertain"
    assert settled.last_error is not None and "crash" in settled.last_error
    assert len(gateway.of(kind)) == 1
    assert await store.in_doubt_actions() == []


async def test_an_in_doubt_add_role_already_applied_completes_without_a_second_call(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "add_role")
    with pytest.raises(Crash):
        await make_outbox(store, gateway, clock, after_send=crash).drain_once()
    assert (await row(store, outbox_id)).status == "sending"
    member = await store.get_member(GUILD, 10)
    assert member is not None and not member.followed  # the crash came before "done"

    restarted = make_outbox(store, gateway, clock)
    await restarted.recover()
    assert await restarted.drain_once() == 0

    assert len(gateway.of("has_role")) == 1
    assert len(gateway.of("add_role")) == 1
    settled = await row(store, outbox_id)
    assert settled.status == "done" and settled.result == {"recovered": True}
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.followed


async def test_an_in_doubt_add_role_not_applied_is_sent_again(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    outbox_id = await queue(store, 10, "add_role")
    with pytest.raises(Crash):
        await make_outbox(store, gateway, clock, after_send=crash).drain_once()
    gateway.roles_held.clear()  # the request never reached Discord

    restarted = make_outbox(store, gateway, clock)
    await restarted.recover()
    await restarted.drain_once()
    assert len(gateway.of("add_role")) == 2
    assert (await row(store, outbox_id)).status == "done"


# --- the loop ------------------------------------------------------------------------------


@pytest.fixture
async def running(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> AsyncIterator[Outbox]:
    outbox = make_outbox(store, gateway, clock)
    outbox.start()
    try:
        yield outbox
    finally:
        await asyncio.wait_for(outbox.stop(), 5)


async def test_the_running_loop_sends_what_is_queued_when_woken(
    store: Store, gateway: RecordingGateway, running: Outbox
) -> None:
    await joined(store, 10)
    await asyncio.sleep(0.05)  # the loop is idle, waiting
    outbox_id = await queue(store, 10, "add_role")
    running.wake()

    async def done() -> bool:
        return (await row(store, outbox_id)).status == "done"

    await eventually(done, timeout=5)
    assert len(gateway.of("add_role")) == 1
    assert running.task is not None and not running.task.done()


async def test_an_unexpected_error_in_one_action_does_not_stop_the_loop(
    store: Store, gateway: RecordingGateway, running: Outbox
) -> None:
    await joined(store, 10)
    await joined(store, 11)
    gateway.fail("add_role", ValueError("malformed answer"))
    await queue(store, 10, "add_role")
    running.wake()
    await asyncio.sleep(0.05)
    later = await queue(store, 11, "dm", text="still works")
    running.wake()

    async def sent() -> bool:
        return (await row(store, later)).status == "done"

    await eventually(sent, timeout=1)


async def test_the_dm_cap_counts_the_owners_day_not_the_utc_day(
    store: Store, gateway: RecordingGateway
) -> None:
    # 00:30 on 1 March in Berlin is still 28 February in UTC
    start = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    clock = ScaledClock(start, speed=1.0)
    limits = DmLimits(per_day=1, spacing=timedelta(0), cooldown=timedelta(0), timezone=BERLIN)
    # yesterday's (local) DM, sent at 23:10 Berlin time: same UTC date, earlier local day
    await store.record_dm_sent(99, None, datetime(2026, 2, 28, 22, 10, tzinfo=UTC))
    await record_join(store, GUILD, user(10, "a"), start, False, start)
    outbox_id = (await store.enqueue_actions(GUILD, 10, [ActionSpec("dm", {"text": "x"})], start))[
        0
    ]
    await make_outbox(store, gateway, clock, limits).drain_once()
    assert (await row(store, outbox_id)).status == "done"
    assert len(gateway.of("dm")) == 1


async def test_nonce_age_is_judged_in_real_time_not_virtual_time(
    store: Store, gateway: RecordingGateway
) -> None:
    fast = ScaledClock(T0, speed=36_000.0)
    await joined(store, 10)
    outbox_id = await queue(store, 10, "dm", text="hi")
    with pytest.raises(Crash):
        await make_outbox(store, gateway, fast, after_send=crash).drain_once()
    await asyncio.sleep(0.05)  # hours of virtual time, well inside Discord's real window
    assert fast.now() - (await row(store, outbox_id)).updated_at > NONCE_WINDOW

    restarted = make_outbox(store, gateway, fast)
    await restarted.recover()
    await restarted.drain_once()
    assert (await row(store, outbox_id)).status == "done"
    assert [c.args[1] for c in gateway.of("dm")] == [store.message_nonce(outbox_id)] * 2


async def test_actions_done_are_told_with_the_member_and_the_text_sent(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await record_join(store, GUILD, UserInfo(10, "ann", global_name="Ann"), T0, False, T0)
    await queue(store, 10, "add_role")
    await queue(store, 10, "dm", text="hi ann")
    told: list[Event] = []
    events = EventBus()
    events.subscribe(told.append)
    await make_outbox(store, gateway, clock, events=events).drain_once()
    assert [(e.kind, e.member, e.text) for e in told if isinstance(e, ActionDone)] == [
        ("add_role", "Ann (ann)", None),
        ("dm", "Ann (ann)", "hi ann"),
    ]


async def test_a_subscriber_that_raises_does_not_stop_the_outbox(
    store: Store, gateway: RecordingGateway, clock: ScaledClock
) -> None:
    await joined(store, 10)
    first, second = await queue(store, 10, "add_role"), await queue(store, 10, "dm")

    def broken(event: Event) -> None:
        raise RuntimeError("a reader's bug")

    events = EventBus()
    events.subscribe(broken)
    await make_outbox(store, gateway, clock, events=events).drain_once()
    assert [(await row(store, i)).status for i in (first, second)] == ["done", "done"]
