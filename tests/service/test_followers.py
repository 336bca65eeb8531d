"""The follower pipeline: a real store, a real policy, the real queue and worker."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.policy import Action
from bot.service.clock import ScaledClock
from bot.service.events import (
    CatchUpDone,
    DecisionMade,
    EventBus,
    MemberLeft,
    MemberPending,
    RoleChangedByHand,
    TimerFired,
    TimerOutcome,
)
from bot.service.followers import FollowerService, PresentMember
from bot.service.outbox import Outbox, dm_limits_from
from bot.service.planning import Hooks
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import TimerScheduler
from bot.store import Store, TimerRow
from tests.service.helpers import (
    BOT,
    GUILD,
    OWNER,
    POLICY_TEXT,
    ROLE,
    T0,
    FakeDirectory,
    HookLog,
    RecordingGateway,
    eventually,
    timer_due,
    user,
    write_policy,
)
from tests.store.helpers import record_join


async def settle(service: FollowerService) -> None:
    await asyncio.wait_for(service.flush(), 5)


async def only_timer(store: Store, user_id: int) -> TimerRow:
    (timer,) = await store.timers_for(GUILD, user_id)
    return timer


def kinds(rows: list) -> list[str]:
    return [r.kind for r in rows]


async def test_a_batch_of_joins_stores_one_decision_each(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    prefixes = ["fb_", "later_", "observe_", "decline_", "quiet_", "someone_"]
    people = {100 + i: f"{prefixes[i % len(prefixes)]}{i}" for i in range(60)}
    futures = [service.member_joined(GUILD, user(uid, name), T0) for uid, name in people.items()]
    await asyncio.wait_for(asyncio.gather(*futures), 5)

    assert await store.count_decisions(GUILD) == 60
    assert await store.events_without_decision() == 0
    for uid, name in people.items():
        (decision,) = await store.decisions_for(GUILD, uid)
        expected = {
            "fb_": Action.FOLLOW_BACK,
            "later_": Action.LATER,
            "observe_": Action.OBSERVE,
            "decline_": Action.DECLINE,
            "quiet_": Action.DECLINE,
            "someone_": Action.IGNORE,
        }[name[: name.index("_") + 1]]
        assert decision.action is expected, name
        assert decision.event_id is not None
    # later_ and observe_ members each got one timer, announced to the scheduler
    assert len(await store.scheduled_timers()) == 20
    assert len(hooks_log.timers) == 20
    assert hooks_log.wakes >= 1  # role changes and DMs were queued


async def test_a_pending_join_is_decided_only_after_screening(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "fb_pat"), T0, pending=True)
    await settle(service)
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.pending
    assert await store.decisions_for(GUILD, 10) == []
    assert await store.actions_for(GUILD, 10) == []  # a role would bypass screening
    assert await store.events_without_decision() == 0  # nothing to decide yet

    await service.screening_done(GUILD, 10)
    await service.screening_done(GUILD, 10)  # a repeated update decides nothing twice
    await settle(service)
    (decision,) = await store.decisions_for(GUILD, 10)
    assert decision.action is Action.FOLLOW_BACK
    assert kinds(await store.actions_for(GUILD, 10)) == ["add_role"]
    member = await store.get_member(GUILD, 10)
    assert member is not None and not member.pending


async def test_the_owner_and_the_bot_are_never_decided(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(OWNER, "fb_owner"), T0)
    await service.member_joined(GUILD, user(BOT, "fb_bot", bot=True), T0)
    await settle(service)
    assert await store.count_decisions() == 0
    assert await store.get_member(GUILD, OWNER) is None
    assert await store.get_member(GUILD, BOT) is None
    assert await store.unprocessed_events() == []


async def test_a_repeated_join_of_the_same_stay_is_decided_once(
    store: Store, service: FollowerService
) -> None:
    ann = user(10, "fb_ann")
    await service.member_joined(GUILD, ann, T0)
    await service.member_joined(GUILD, ann, T0, kind="catch_up")  # start-up catch-up
    await settle(service)
    assert len(await store.decisions_for(GUILD, 10)) == 1
    assert kinds(await store.actions_for(GUILD, 10)) == ["add_role"]
    assert await store.events_without_decision() == 0

    # a real rejoin (a new stay) is decided again
    await service.member_left(GUILD, 10)
    await service.member_joined(GUILD, ann, T0 + timedelta(hours=1))
    await settle(service)
    assert len(await store.decisions_for(GUILD, 10)) == 2
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.times_rejoined == 1


async def test_resume_decides_events_stored_before_a_crash(
    store: Store, service: FollowerService
) -> None:
    # what a crash leaves: events and members stored, never decided
    fb = await store.record_event(GUILD, 10, "join", {}, T0)
    await record_join(store, GUILD, user(10, "fb_cat"), T0, False, T0)
    pending = await store.record_event(GUILD, 11, "join", {}, T0)
    await record_join(store, GUILD, user(11, "fb_pen"), T0, True, T0)
    assert await store.events_without_decision() == 2

    assert await service.resume_unprocessed() == 1

    (decision,) = await store.decisions_for(GUILD, 10)
    assert decision.event_id == fb and decision.action is Action.FOLLOW_BACK
    assert kinds(await store.actions_for(GUILD, 10)) == ["add_role"]
    assert await store.decisions_for(GUILD, 11) == []  # still waiting for screening
    assert await store.events_without_decision() == 0
    assert pending not in [e.id for e in await store.unprocessed_events()]
    assert await service.resume_unprocessed() == 0  # nothing decided twice


async def test_a_timer_for_a_member_who_left_is_cancelled(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "later_lee"), T0)
    await settle(service)
    timer = await only_timer(store, 10)
    assert timer.kind == "later" and timer.status == "scheduled"

    await service.member_left(GUILD, 10)
    await settle(service)
    # the late-notice DM not yet sent is cancelled with the leave
    assert {r.status for r in await store.actions_for(GUILD, 10)} == {"cancelled"}

    await asyncio.wait_for(timer_due(service, timer), 5)
    fired = await only_timer(store, 10)
    assert fired.status != "scheduled"
    assert fired.outcome is not None and "left" in fired.outcome
    assert "add_role" not in kinds(await store.actions_for(GUILD, 10))


async def test_a_late_follow_back_falls_due_once(store: Store, service: FollowerService) -> None:
    await service.member_joined(GUILD, user(10, "later_lee"), T0)
    await settle(service)
    timer = await only_timer(store, 10)

    await asyncio.wait_for(asyncio.gather(timer_due(service, timer), timer_due(service, timer)), 5)

    roles = [r for r in await store.actions_for(GUILD, 10) if r.kind == "add_role"]
    assert len(roles) == 1
    assert roles[0].payload["role_id"] == ROLE
    assert roles[0].decision_id == timer.decision_id
    fired = await only_timer(store, 10)
    assert fired.status == "fired" and fired.outcome == "followed back (late)"


async def test_an_observe_window_decides_again_on_what_was_seen(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "observe_ola"), T0)
    await service.member_joined(GUILD, user(11, "observe_oz"), T0)
    await settle(service)
    (first,) = await store.decisions_for(GUILD, 10)
    assert first.action is Action.OBSERVE and not first.observed

    await service.message_seen(GUILD, 10, messages=2)
    await service.message_seen(GUILD, 10, messages=1)
    for uid in (10, 11):
        await asyncio.wait_for(timer_due(service, await only_timer(store, uid)), 5)

    engaged = await store.decisions_for(GUILD, 10)
    assert [d.observed for d in engaged] == [False, True]
    assert engaged[1].action is Action.FOLLOW_BACK
    assert engaged[1].rule == "engaged after a look"
    assert kinds(await store.actions_for(GUILD, 10)) == ["add_role"]

    quiet = await store.decisions_for(GUILD, 11)
    assert quiet[-1].observed and quiet[-1].action is Action.DECLINE
    assert kinds(await store.actions_for(GUILD, 11)) == ["dm"]
    for uid in (10, 11):
        timer = await only_timer(store, uid)
        assert timer.status == "fired" and timer.outcome == "decided again after observing"
    assert await store.events_without_decision() == 0


async def test_the_owner_removing_the_role_by_hand_cancels_a_pending_follow_back(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    await service.member_joined(GUILD, user(10, "fb_fay"), T0)
    await service.follow_role_changed_by_hand(GUILD, 10, False)
    await settle(service)
    (action,) = await store.actions_for(GUILD, 10)
    assert (action.kind, action.status) == ("add_role", "cancelled")
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.unfollowed_by_owner and not member.followed
    (by_hand,) = hooks_log.of(RoleChangedByHand)
    assert (by_hand.member, by_hand.user_id, by_hand.followed) == ("fb_fay", 10, False)


async def test_one_failing_step_does_not_stop_the_worker(
    store: Store, service: FollowerService
) -> None:
    async def boom() -> None:
        raise RuntimeError("boom")

    failed = service._submit(task=boom)
    await service.member_joined(GUILD, user(10, "fb_after"), T0)
    assert isinstance(failed.exception(), RuntimeError)
    assert len(await store.decisions_for(GUILD, 10)) == 1


REJOIN_DECLINED = POLICY_TEXT.replace(
    "  - name: late\n",
    "  - name: came back\n"
    "    when: {times_rejoined: {at_least: 1}}\n"
    "    then: {decline: {reply: decline_dm}}\n"
    "  - name: late\n",
)


async def test_a_late_timer_from_an_earlier_stay_does_not_act_after_a_rejoin(
    store: Store, tmp_path: Path
) -> None:
    policies = write_policy(tmp_path / "rejoin.yaml", REJOIN_DECLINED)
    service = FollowerService(
        store,
        policies,
        ScaledClock(T0, speed=1.0),
        FakeDirectory(),
        bot_user_id=BOT,
        churn_window=timedelta(days=7),
        owner_id=OWNER,
    )
    service.start()
    try:
        await service.member_joined(GUILD, user(10, "later_lee"), T0)
        stale = await only_timer(store, 10)
        await service.member_left(GUILD, 10)
        await service.member_joined(GUILD, user(10, "later_lee"), T0 + timedelta(minutes=30))
        decisions = await store.decisions_for(GUILD, 10)
        assert [d.rule for d in decisions] == ["late", "came back"]  # declined this time

        await asyncio.wait_for(timer_due(service, stale), 5)

        # declined (and told so by DM): the old stay's timer must not give the role now
        assert "add_role" not in kinds(await store.actions_for(GUILD, 10))
    finally:
        await asyncio.wait_for(service.stop(), 5)


async def test_a_repeated_join_that_clears_pending_is_still_decided(
    store: Store, service: FollowerService
) -> None:
    pat = user(10, "fb_pat")
    await service.member_joined(GUILD, pat, T0, pending=True)  # live join, screening open
    # the start-up catch-up saw the same stay with screening already done
    await service.member_joined(GUILD, pat, T0, pending=False, kind="catch_up")
    await service.screening_done(GUILD, 10)  # the gateway's update, late
    await settle(service)
    member = await store.get_member(GUILD, 10)
    assert member is not None and not member.pending
    assert len(await store.decisions_for(GUILD, 10)) == 1


async def test_the_services_wired_together_follow_back_now_later_and_after_a_look(
    store: Store, policies: PolicyHolder
) -> None:
    """FollowerService, Outbox and TimerScheduler wired as the bot wires them, days in seconds."""
    clock = ScaledClock(T0, speed=36_000.0)  # the 2 h windows pass in 0.2 s
    gateway = RecordingGateway()
    outbox = Outbox(store, gateway, clock, dm_limits_from(policies))
    timers = TimerScheduler(store, clock)
    service = FollowerService(
        store,
        policies,
        clock,
        FakeDirectory(),
        bot_user_id=BOT,
        churn_window=timedelta(days=7),
        owner_id=OWNER,
        hooks=Hooks(wake_outbox=outbox.wake, schedule_timer=timers.schedule),
    )
    service.register_timers(timers)
    await outbox.recover()
    timers.start()
    await timers.rebuild()
    service.start()
    outbox.start()
    try:
        now = clock.now()
        names = {10: "fb_ann", 11: "later_lee", 12: "observe_ola", 13: "decline_dee"}
        for uid, name in names.items():
            service.member_joined(GUILD, user(uid, name), now)
        service.message_seen(GUILD, 12, messages=3)

        async def settled() -> bool:
            roles = {c.user_id for c in gateway.of("add_role")}
            return roles == {10, 11, 12} and not await store.scheduled_timers()

        await eventually(settled, timeout=5)
        await asyncio.wait_for(service.flush(), 5)
        await asyncio.sleep(0.05)
    finally:
        await asyncio.wait_for(service.stop(), 5)
        await asyncio.wait_for(outbox.stop(), 5)
        timers.shutdown()

    assert sorted(c.user_id for c in gateway.of("add_role")) == [10, 11, 12]  # once each
    assert sorted(c.user_id for c in gateway.of("dm")) == [11, 13]
    for uid in (10, 11, 12):
        member = await store.get_member(GUILD, uid)
        assert member is not None and member.followed
    member = await store.get_member(GUILD, 13)
    assert member is not None and not member.followed and member.declined_before
    late = await only_timer(store, 11)
    assert late.outcome == "followed back (late)"
    assert late.finished_at is not None and late.finished_at >= late.due
    assert await store.events_without_decision() == 0
    assert await store.in_doubt_actions() == []


async def test_catch_up_reconciles_the_store_with_who_is_in_the_guild(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "fb_stays"), T0)
    await service.member_joined(GUILD, user(11, "fb_gone"), T0)
    await service.member_joined(GUILD, user(12, "fb_lost_role"), T0)
    await service.flush()
    present = [
        PresentMember(user(10, "fb_stays"), T0, False, None),
        PresentMember(user(12, "fb_lost_role"), T0, False, None, is_follower=False),
        PresentMember(user(13, "fb_new"), T0, False, None),
        PresentMember(user(OWNER, "owner"), T0, False, None),
    ]
    assert await service.catch_up(GUILD, present) == 1  # only fb_new is a new join
    gone, lost_role = await store.get_member(GUILD, 11), await store.get_member(GUILD, 12)
    assert gone is not None and not gone.present  # left while the bot was offline
    assert lost_role is not None and lost_role.present  # still here: not a leave
    assert len(await store.decisions_for(GUILD, 13)) == 1
    assert await store.get_member(GUILD, OWNER) is None  # the owner is never a follower


# --- what the pipeline tells its readers ---------------------------------------------------


async def test_each_stored_decision_is_told_once_with_its_rule_and_why(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    await service.member_joined(GUILD, user(10, "later_lee"), T0)
    await service.member_joined(GUILD, user(11, "someone"), T0)
    await settle(service)
    later, ignored = hooks_log.of(DecisionMade)
    stored = {d.user_id: d for d in [*await store.decisions_for(GUILD, 10)]}
    assert later.user_id == 10 and later.member == "later_lee"
    assert later.decision.action is Action.LATER and later.decision.rule == "late"
    assert later.decision.due == stored[10].due  # the due time that was stored
    assert later.dm == "late_notice" and later.timezone == "Europe/Berlin"
    assert later.rule is not None and later.rule.when == {"username_matches": "^later_"}
    assert later.facts.username == "later_lee" and not later.observed
    assert ignored.decision.rule == "everyone else" and ignored.dm is None
    assert len(ignored.decision.misses) == 8  # why each earlier rule did not match


async def test_pending_leave_and_timer_outcomes_are_told(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    await service.member_joined(GUILD, user(10, "fb_pat"), T0, pending=True)
    await service.member_joined(GUILD, user(11, "later_lee"), T0)
    await settle(service)
    timer = await only_timer(store, 11)
    await service.member_left(GUILD, 11)
    # the leave ends the stay: its timer is cancelled then, and never acts when due
    cancelled = await only_timer(store, 11)
    assert (cancelled.status, cancelled.outcome) == ("cancelled", TimerOutcome.LEFT.value)
    await asyncio.wait_for(timer_due(service, timer), 5)
    assert [(e.user_id, e.member) for e in hooks_log.of(MemberPending)] == [(10, "fb_pat")]
    assert [e.user_id for e in hooks_log.of(MemberLeft)] == [11]
    (told,) = hooks_log.of(TimerFired)  # told once, when the leave cancelled it
    assert (told.kind, told.outcome, told.member) == ("later", TimerOutcome.LEFT, "later_lee")


async def test_a_late_follow_back_is_told_once_even_when_due_twice(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    await service.member_joined(GUILD, user(10, "later_lee"), T0)
    await settle(service)
    timer = await only_timer(store, 10)
    await asyncio.wait_for(asyncio.gather(timer_due(service, timer), timer_due(service, timer)), 5)
    assert [e.outcome for e in hooks_log.of(TimerFired)] == [TimerOutcome.FOLLOWED_LATE]


async def test_catch_up_tells_what_it_found(
    store: Store, service: FollowerService, hooks_log: HookLog
) -> None:
    await service.member_joined(GUILD, user(10, "fb_gone"), T0)
    await service.member_joined(GUILD, user(11, "fb_pending"), T0, pending=True)
    await service.member_joined(GUILD, user(12, "fb_kept"), T0)
    await settle(service)
    (role,) = await store.actions_for(GUILD, 12)
    assert await store.claim_action(role.id, T0)
    assert await store.finish_action(role, T0)  # as the outbox records it
    present = [
        PresentMember(user(11, "fb_pending"), T0, False, None),  # passed screening
        PresentMember(user(12, "fb_kept"), T0, False, False),  # the owner took the role
        PresentMember(user(13, "fb_new"), T0, False, None),
    ]
    await service.catch_up(GUILD, present)
    (done,) = hooks_log.of(CatchUpDone)
    assert (done.guild_id, done.joins, done.leaves, done.screened, done.roles_by_hand) == (
        GUILD,
        1,
        1,
        1,
        1,
    )


async def test_nobody_listening_builds_no_events_and_a_broken_reader_breaks_nothing(
    store: Store, policies: PolicyHolder
) -> None:
    events = EventBus()
    service = FollowerService(
        store,
        policies,
        ScaledClock(T0, speed=1.0),
        FakeDirectory(),
        bot_user_id=BOT,
        churn_window=timedelta(days=7),
        events=events,
    )
    await record_join(store, GUILD, user(10, "fb_ann"), T0, False, T0)
    member = await store.get_member(GUILD, 10)
    assert member is not None
    plan = await service._planner.plan_many([(0, member)], observed=False, now=T0)
    assert plan.events == [] and len(plan.items) == 1  # nothing built for nobody

    def broken(event: object) -> None:
        raise RuntimeError("a reader's bug")

    events.subscribe(broken)
    service.start()
    try:
        await asyncio.wait_for(service.member_joined(GUILD, user(11, "fb_bob"), T0), 5)
        await settle(service)
    finally:
        await service.stop()
    (decision,) = await store.decisions_for(GUILD, 11)
    assert decision.action is Action.FOLLOW_BACK
    assert kinds(await store.actions_for(GUILD, 11)) == ["add_role"]


async def test_messages_seen_together_are_counted_in_one_write_and_in_queue_order(
    store: Store, service: FollowerService
) -> None:
    await service.member_joined(GUILD, user(10, "observe_ola"), T0)
    await service.member_joined(GUILD, user(11, "observe_oz"), T0)
    await settle(service)
    writes: list[int] = []
    bump = store.bump_activities

    async def counting(bumps: list[tuple[int, int, dict[str, int]]]) -> None:
        writes.append(len(bumps))
        await bump(bumps)

    store.bump_activities = counting  # type: ignore[method-assign]
    burst = [service.message_seen(GUILD, 10, messages=1, links=1) for _ in range(50)]
    burst += [service.message_seen(GUILD, 11, messages=1) for _ in range(7)]
    await asyncio.wait_for(asyncio.gather(*burst), 5)
    assert writes == [2]  # 57 messages of two members: one write
    ola = await store.get_member(GUILD, 10)
    assert ola is not None and (ola.messages, ola.links) == (50, 50)

    # A leave queued between messages splits them: the later ones count after it.
    service.message_seen(GUILD, 11, messages=1)
    service.member_left(GUILD, 11)
    await asyncio.wait_for(service.message_seen(GUILD, 11, messages=1), 5)
    assert writes == [2, 1, 1]
