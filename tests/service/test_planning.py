"""The Planner: from a decision to roles, DMs and timers, honouring the owner's hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.policy import Action
from bot.service.clock import ScaledClock
from bot.service.events import EventBus
from bot.service.followers import FollowerService
from bot.service.planning import Planner, human_due
from bot.service.policy_holder import PolicyHolder
from bot.store import Store
from tests.service.helpers import BOT, GUILD, ROLE, T0, FakeDirectory, user
from tests.store.helpers import record_join


async def join(service: FollowerService, user_id: int, name: str, **kw: object) -> None:
    joined_at = kw.pop("joined_at", T0)
    await asyncio.wait_for(
        service.member_joined(GUILD, user(user_id, name, **kw), joined_at),  # type: ignore[arg-type]
        5,
    )


async def dms(store: Store, user_id: int) -> list[str]:
    return [r.payload["text"] for r in await store.actions_for(GUILD, user_id) if r.kind == "dm"]


def test_human_due_is_in_the_owner_timezone() -> None:
    assert (
        human_due(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "Europe/Berlin") == "Sun 01 Mar, 13:00"
    )
    # after the spring change Berlin is two hours ahead
    assert (
        human_due(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), "Europe/Berlin") == "Sun 29 Mar, 14:00"
    )
    assert human_due(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), "UTC") == "Sun 29 Mar, 12:00"


async def test_a_late_notice_dm_names_the_due_time_in_local_words(
    store: Store, service: FollowerService
) -> None:
    await join(service, 10, "later_lee")
    (decision,) = await store.decisions_for(GUILD, 10)
    assert decision.action is Action.LATER
    assert decision.due == decision.decided_at + timedelta(hours=2)
    (text,) = await dms(store, 10)
    assert (
        text
        == f"Hi later_lee, I follow back late: around {human_due(decision.due, 'Europe/Berlin')}."
    )
    assert "15:00" in text  # 14:00 UTC is 15:00 in Berlin in winter


async def test_dms_go_only_for_templates_that_opt_in(
    store: Store, service: FollowerService
) -> None:
    await join(service, 10, "laterq_lou")  # late_quiet: no `dm: true`
    await join(service, 11, "quiet_quo")  # decline_quiet: no `dm: true`
    await join(service, 12, "decline_dee")  # decline_dm: `dm: true`
    assert await dms(store, 10) == []
    assert [t.kind for t in await store.timers_for(GUILD, 10)] == ["later"]  # still late
    assert await dms(store, 11) == []
    assert await dms(store, 12) == ["Thanks decline_dee, no follow-back for now."]


async def test_someone_declined_before_is_not_messaged_again(
    store: Store, service: FollowerService
) -> None:
    await join(service, 10, "decline_dee")
    await asyncio.wait_for(service.member_left(GUILD, 10), 5)
    await join(service, 10, "decline_dee", joined_at=T0 + timedelta(days=1))

    decisions = await store.decisions_for(GUILD, 10)
    assert [d.action for d in decisions] == [Action.DECLINE, Action.DECLINE]
    member = await store.get_member(GUILD, 10)
    assert member is not None and member.declined_before
    assert len([r for r in await store.actions_for(GUILD, 10) if r.kind == "dm"]) == 1


async def test_bots_are_never_messaged(store: Store, service: FollowerService) -> None:
    await join(service, 10, "decline_robot", bot=True)
    await join(service, 11, "later_robot", bot=True)
    assert (await store.decisions_for(GUILD, 10))[0].action is Action.DECLINE
    assert (await store.decisions_for(GUILD, 11))[0].action is Action.LATER
    assert await store.actions_for(GUILD, 10) == []
    assert await store.actions_for(GUILD, 11) == []


async def test_follow_back_is_skipped_when_the_owner_unfollowed_by_hand(
    store: Store, service: FollowerService
) -> None:
    await join(service, 10, "fb_fay")
    await asyncio.wait_for(service.follow_role_changed_by_hand(GUILD, 10, False), 5)
    await asyncio.wait_for(service.member_left(GUILD, 10), 5)
    await join(service, 10, "fb_fay", joined_at=T0 + timedelta(days=1))

    decisions = await store.decisions_for(GUILD, 10)
    assert [d.action for d in decisions] == [Action.FOLLOW_BACK, Action.FOLLOW_BACK]
    statuses = [(r.kind, r.status) for r in await store.actions_for(GUILD, 10)]
    assert statuses == [("add_role", "cancelled")]  # the first, cancelled; no second


async def test_a_late_follow_back_respects_the_owner_and_the_current_state(
    store: Store, policies: PolicyHolder
) -> None:
    planner = Planner(store, policies, FakeDirectory(), BOT)
    await record_join(store, GUILD, user(10, "later_lee"), T0, False, T0)
    member = await store.get_member(GUILD, 10)
    assert member is not None
    actions, outcome = planner.late_follow_back(member)
    assert outcome == "followed back (late)"
    assert [(a.kind, a.payload["role_id"]) for a in actions] == [("add_role", ROLE)]

    await store.set_followed(GUILD, 10, False, T0, by_owner=True)
    member = await store.get_member(GUILD, 10)
    assert member is not None
    assert planner.late_follow_back(member) == ([], "skipped: the owner unfollowed them by hand")

    await store.set_followed(GUILD, 10, True, T0)
    member = await store.get_member(GUILD, 10)
    assert member is not None
    assert planner.late_follow_back(member) == ([], "already followed")


async def test_a_missing_follow_back_role_queues_nothing_but_still_decides(
    store: Store, service: FollowerService, directory: FakeDirectory
) -> None:
    directory.roles.clear()
    await join(service, 10, "fb_ann")
    (decision,) = await store.decisions_for(GUILD, 10)
    assert decision.action is Action.FOLLOW_BACK
    assert await store.actions_for(GUILD, 10) == []


async def test_plan_many_decides_with_roles_from_the_directory(
    store: Store, tmp_path, directory: FakeDirectory
) -> None:
    from bot.policy import load_policy_text

    text = """\
version: 1
owner: {timezone: UTC}
follow_back: {role: Mutuals}
rules:
  - name: regulars
    when: {has_role: Regulars}
    then: follow_back
  - name: everyone else
    then: ignore
"""
    path = tmp_path / "roles.yaml"
    path.write_text(text)
    planner = Planner(store, PolicyHolder(path, load_policy_text(text)), directory, BOT)
    await record_join(store, GUILD, user(10, "reg"), T0, False, T0)
    await record_join(store, GUILD, user(11, "new"), T0, False, T0)
    directory.member_role_names[(GUILD, 10)] = frozenset({"Regulars"})
    rows = [(0, await store.get_member(GUILD, uid)) for uid in (10, 11)]
    plan = await planner.plan_many(rows, observed=False, now=T0)  # type: ignore[arg-type]
    items = plan.items
    assert [i.decision.action for i in items] == [Action.FOLLOW_BACK, Action.IGNORE]
    assert [a.kind for a in items[0].actions] == ["add_role"]
    assert items[1].actions == []
    # with a reader, each decision comes with its event: the member and why
    listened = Planner(store, planner._policies, directory, BOT, _listened_bus())
    told = (await listened.plan_many(rows, observed=False, now=T0)).events  # type: ignore[arg-type]
    assert [(e.member, e.decision.rule) for e in told] == [
        ("reg", "regulars"),
        ("new", "everyone else"),
    ]
    (miss,) = told[1].decision.misses  # why not 'regulars': the nearest miss
    assert miss.rule == "regulars"
    assert told[0].facts.roles == frozenset({"Regulars"})


SURGE_POLICY = """\
version: 1
owner: {timezone: UTC}
follow_back: {role: Mutuals}
rules:
  - name: raid
    when: {surge: {joins: {at_least: 5}, within: 10m}}
    then: review
  - name: everyone else
    then: follow_back
"""


async def test_a_surge_of_joins_is_counted_from_the_store(
    store: Store, tmp_path, directory: FakeDirectory
) -> None:
    from bot.policy import load_policy_text

    path = tmp_path / "surge.yaml"
    path.write_text(SURGE_POLICY)
    holder = PolicyHolder(path, load_policy_text(SURGE_POLICY))
    service = FollowerService(
        store,
        holder,
        ScaledClock(T0, speed=1.0),
        directory,
        bot_user_id=BOT,
        churn_window=timedelta(days=7),
    )
    service.start()
    try:
        # three joined a day ago: outside the window, they count for nothing
        for uid in (1, 2, 3):
            await record_join(
                store, GUILD, user(uid, f"old{uid}"), T0 - timedelta(days=1), False, T0
            )
        await asyncio.wait_for(
            service.member_joined(GUILD, user(10, "first"), T0 - timedelta(seconds=30)), 5
        )
        burst = [
            service.member_joined(GUILD, user(20 + i, f"raider{i}"), T0 - timedelta(seconds=6 - i))
            for i in range(6)
        ]
        await asyncio.wait_for(asyncio.gather(*burst), 5)
    finally:
        await asyncio.wait_for(service.stop(), 5)

    (first,) = await store.decisions_for(GUILD, 10)
    assert first.action is Action.FOLLOW_BACK
    actions = [(await store.decisions_for(GUILD, 20 + i))[0].action for i in range(6)]
    assert Action.REVIEW in actions  # the raid was seen
    assert actions[-1] is Action.REVIEW  # by the last of them, 7 joined within 10 minutes


def _listened_bus() -> EventBus:
    bus = EventBus()
    bus.subscribe(lambda event: None)
    return bus
