"""Timers: one real APScheduler job waits for the earliest timer; each timer fires once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import pytest

from bot.policy import Action, Decision
from bot.service.clock import ScaledClock
from bot.service.followers import FollowerService
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import (
    FIRED,
    JOB_ID,
    NotYet,
    TimerHandler,
    TimerResult,
    TimerScheduler,
)
from bot.store import Store, TimerKind, TimerRow, TimerSpec
from tests.service.helpers import BOT, GUILD, OWNER, T0, FakeDirectory, eventually, user
from tests.store.helpers import record_decision, record_join

FAST = 36_000.0  # a virtual hour every 0.1 s


async def later_timer(store: Store, user_id: int, due: datetime) -> int:
    """A member decided `later`, with its timer, as the pipeline would store it."""
    await record_join(store, GUILD, user(user_id, f"later_{user_id}"), T0, False, T0)
    await record_decision(
        store,
        GUILD,
        user_id,
        None,
        Decision(rule="late", action=Action.LATER, due=due),
        observed=False,
        at=T0,
        timer=TimerSpec("later", due),
    )
    (timer,) = await store.timers_for(GUILD, user_id)
    return timer.id


class Rig:
    """A real FollowerService firing the timers of a real TimerScheduler."""

    def __init__(self, store: Store, policies: PolicyHolder, clock: ScaledClock) -> None:
        self.store = store
        self.clock = clock
        self.fired: list[int] = []
        self.service = FollowerService(
            store,
            policies,
            clock,
            FakeDirectory(),
            bot_user_id=BOT,
            churn_window=timedelta(days=7),
            owner_id=OWNER,
        )
        self.timers = TimerScheduler(store, clock)
        self.timers.register(TimerKind.LATER, self.fire)
        self.fail_for: set[int] = set()

    async def fire(self, timer: TimerRow) -> TimerResult:
        self.fired.append(timer.id)
        if timer.id in self.fail_for:
            raise RuntimeError(f"timer {timer.id} blew up")
        return await self.service.late_follow_back_due(timer)

    async def add_roles(self, user_id: int) -> int:
        rows = await self.store.actions_for(GUILD, user_id)
        return sum(1 for r in rows if r.kind == "add_role")


@pytest.fixture
async def make_rig(store: Store, policies: PolicyHolder) -> AsyncIterator[Callable[[float], Rig]]:
    rigs: list[Rig] = []

    def make(speed: float) -> Rig:
        rig = Rig(store, policies, ScaledClock(T0, speed=speed))
        rig.service.start()
        rig.timers.start()
        rigs.append(rig)
        return rig

    try:
        yield make
    finally:
        for rig in rigs:
            rig.timers.shutdown()
            await asyncio.wait_for(rig.service.stop(), 5)


async def test_rebuild_arms_one_job_for_the_earliest_timer(
    store: Store, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(1.0)
    for uid, hours in ((10, 5), (11, 2), (12, 9)):
        await later_timer(store, uid, T0 + timedelta(hours=hours))

    assert await rig.timers.rebuild() == 3
    jobs = rig.timers.scheduler.get_jobs()
    assert [job.id for job in jobs] == [JOB_ID]
    assert jobs[0].next_run_time == rig.clock.real_time_for(T0 + timedelta(hours=2))

    # a later timer leaves the job alone; an earlier one re-arms it
    rig.timers.schedule(T0 + timedelta(hours=3))
    assert rig.timers.scheduler.get_job(JOB_ID).next_run_time == rig.clock.real_time_for(
        T0 + timedelta(hours=2)
    )
    rig.timers.schedule(T0 + timedelta(hours=1))
    assert len(rig.timers.scheduler.get_jobs()) == 1
    assert rig.timers.scheduler.get_job(JOB_ID).next_run_time == rig.clock.real_time_for(
        T0 + timedelta(hours=1)
    )


async def test_rebuild_with_no_timers_arms_nothing(
    store: Store, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(1.0)
    assert await rig.timers.rebuild() == 0
    assert rig.timers.scheduler.get_jobs() == []


async def test_an_overdue_timer_fires_at_once_after_rebuild(
    store: Store, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(1.0)  # real speed: only an overdue timer can fire within the test
    overdue = await later_timer(store, 10, T0 - timedelta(hours=3))  # fell due while down
    future = await later_timer(store, 11, T0 + timedelta(hours=3))
    await rig.timers.rebuild()

    async def fired() -> bool:
        timer = await store.get_timer(overdue)
        return timer is not None and timer.status == "fired"

    await eventually(fired, timeout=3)
    await asyncio.wait_for(rig.service.flush(), 5)
    assert rig.fired == [overdue]
    assert await rig.add_roles(10) == 1
    assert (await store.get_timer(future)).status == "scheduled"  # type: ignore[union-attr]
    # re-armed for the next one
    assert rig.timers.scheduler.get_job(JOB_ID).next_run_time == rig.clock.real_time_for(
        T0 + timedelta(hours=3)
    )


async def test_timers_fire_in_order_on_a_fast_clock_and_the_job_goes_away(
    store: Store, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(FAST)
    ids = [await later_timer(store, 10 + i, T0 + timedelta(hours=1 + i)) for i in range(3)]
    await rig.timers.rebuild()

    async def all_fired() -> bool:
        timers = [await store.get_timer(t) for t in ids]
        return all(t is not None and t.status == "fired" for t in timers)

    await eventually(all_fired, timeout=5)
    assert rig.fired == ids
    for i in range(3):
        assert await rig.add_roles(10 + i) == 1
    assert rig.timers.scheduler.get_job(JOB_ID) is None
    # virtual time reached each due time before it fired
    for timer_id in ids:
        timer = await store.get_timer(timer_id)
        assert timer is not None and timer.finished_at is not None
        assert timer.finished_at >= timer.due


async def test_each_timer_fires_once_even_when_fire_due_runs_twice_at_once(
    store: Store, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(1.0)
    ids = [await later_timer(store, 10 + i, T0 - timedelta(minutes=i + 1)) for i in range(5)]

    counts = await asyncio.wait_for(asyncio.gather(rig.timers.fire_due(), rig.timers.fire_due()), 5)
    assert sorted(counts) == [0, 5]
    assert sorted(rig.fired) == sorted(ids)
    await asyncio.wait_for(rig.service.flush(), 5)
    for i in range(5):
        assert await rig.add_roles(10 + i) == 1


async def test_a_failing_timer_is_recorded_and_does_not_stall_the_rest(
    store: Store, make_rig: Callable[[float], Rig]
) -> None:
    rig = make_rig(1.0)
    bad = await later_timer(store, 10, T0 - timedelta(minutes=2))
    good = await later_timer(store, 11, T0 - timedelta(minutes=1))
    rig.fail_for.add(bad)

    assert await asyncio.wait_for(rig.timers.fire_due(), 5) == 2
    failed = await store.get_timer(bad)
    assert failed is not None and (failed.status, failed.outcome) == ("cancelled", "failed")
    done = await store.get_timer(good)
    assert done is not None and done.status == "fired"
    assert await rig.add_roles(10) == 0
    assert await rig.add_roles(11) == 1


# --- the dispatcher: one handler per kind --------------------------------------------------


async def observe_timer(store: Store, user_id: int, due: datetime) -> int:
    await record_join(store, GUILD, user(user_id, f"observe_{user_id}"), T0, False, T0)
    await record_decision(
        store, GUILD, user_id, None, Decision(rule="observe", action=Action.OBSERVE, due=due),
        observed=False, at=T0, timer=TimerSpec("observe", due),
    )  # fmt: skip
    (timer,) = await store.timers_for(GUILD, user_id)
    return timer.id


async def test_each_kind_goes_to_its_own_handler(store: Store) -> None:
    clock = ScaledClock(T0, speed=1.0)
    timers = TimerScheduler(store, clock)
    seen: list[tuple[str, int]] = []

    def handler(name: str) -> TimerHandler:
        async def handle(timer: TimerRow) -> TimerResult:
            seen.append((name, timer.id))
            await store.finish_timer(timer.id, clock.now(), name)
            return FIRED

        return handle

    timers.register(TimerKind.LATER, handler("late"))
    timers.register(TimerKind.OBSERVE, handler("observe"))
    with pytest.raises(ValueError, match="already"):
        timers.register(TimerKind.LATER, handler("again"))
    late = await later_timer(store, 10, T0 - timedelta(minutes=2))
    look = await observe_timer(store, 11, T0 - timedelta(minutes=1))

    assert await timers.fire_due() == 2
    assert seen == [("late", late), ("observe", look)]
    assert await store.scheduled_timers() == []


async def test_a_timer_whose_handler_cannot_act_yet_stays_due_and_is_tried_again(
    store: Store,
) -> None:
    clock = ScaledClock(T0, speed=1.0)
    timers = TimerScheduler(store, clock)
    answers: list[TimerResult] = [NotYet(timedelta(minutes=5)), FIRED]

    async def handle(timer: TimerRow) -> TimerResult:
        answer = answers.pop(0)
        if answer is FIRED:
            await store.finish_timer(timer.id, clock.now(), "done")
        return answer

    timers.register(TimerKind.LATER, handle)
    timer_id = await later_timer(store, 10, T0 - timedelta(minutes=1))
    timers.start()
    try:
        assert await timers.fire_due() == 1
        waiting = await store.get_timer(timer_id)
        assert waiting is not None and waiting.status == "scheduled"  # not consumed
        assert timedelta(minutes=4) < waiting.due - clock.now() <= timedelta(minutes=5)
        assert timers.scheduler.get_job(JOB_ID) is not None  # armed for the retry

        clock.advance(timedelta(minutes=6))
        assert await timers.fire_due() == 1
        done = await store.get_timer(timer_id)
        assert done is not None and (done.status, done.outcome) == ("fired", "done")
    finally:
        timers.shutdown()


async def test_a_late_follow_back_due_before_the_guild_is_known_waits_for_it(
    store: Store, policies: PolicyHolder
) -> None:
    """Issue 10 defect 3: a timer due at start-up, before GUILD_CREATE, is not lost."""
    clock = ScaledClock(T0, speed=1.0)
    directory = FakeDirectory(unknown_guilds={GUILD})
    service = FollowerService(
        store, policies, clock, directory, bot_user_id=BOT,
        churn_window=timedelta(days=7), owner_id=OWNER,
    )  # fmt: skip
    timers = TimerScheduler(store, clock)
    service.register_timers(timers)
    timer_id = await later_timer(store, 10, T0 - timedelta(minutes=1))
    service.start()
    try:
        await timers.fire_due()
        waiting = await store.get_timer(timer_id)
        assert waiting is not None and waiting.status == "scheduled"
        assert await store.actions_for(GUILD, 10) == []

        directory.unknown_guilds.clear()  # the guild streamed in
        clock.advance(timedelta(minutes=1))
        await timers.fire_due()
        fired = await store.get_timer(timer_id)
        assert fired is not None and fired.outcome == "followed back (late)"
        assert [a.kind for a in await store.actions_for(GUILD, 10)] == ["add_role"]
    finally:
        timers.shutdown()
        await asyncio.wait_for(service.stop(), 5)
