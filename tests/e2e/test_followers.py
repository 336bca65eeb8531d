"""Followers end to end: real discord.py, the stand-in, a real SQLite file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from bot.store import OutboxRow
from tests.e2e.conftest import POLICY, Harness, eventually


async def test_each_decision_gives_exactly_the_right_roles_and_dms(harness: Harness) -> None:
    await harness.start()
    ids = {
        name: await harness.join(name, **extra)
        for name, extra in [
            ("fb_ann", {}),
            ("later_lee", {}),
            ("observe_ola", {}),
            ("review_rob", {}),
            ("decline_dee", {}),
            ("quiet_quo", {}),
            ("a_bot", {"bot": True}),
            ("someone", {}),
        ]
    }
    for user_id in ids.values():
        await harness.decided(user_id)
    await harness.idle()

    actions = {
        name: (await harness.store.latest_decision(harness.guild_id, uid)).action
        for name, uid in ids.items()
    }
    assert actions == {
        "fb_ann": "follow_back",
        "later_lee": "later",
        "observe_ola": "observe",
        "review_rob": "review",
        "decline_dee": "decline",
        "quiet_quo": "decline",
        "a_bot": "ignore",
        "someone": "ignore",
    }
    # Only the immediate follow-back holds the role; exactly one role PUT was made.
    assert [n for n, uid in ids.items() if harness.has_role(uid)] == ["fb_ann"]
    assert sum(harness.role_puts(uid) for uid in ids.values()) == 1
    # DMs only where an opted-in template asked for one: the late notice and the decline.
    dms = {n: harness.standin.dms_to(uid) for n, uid in ids.items()}
    assert {n for n, messages in dms.items() if messages} == {"later_lee", "decline_dee"}
    assert "around" in dms["later_lee"][0]["content"]
    assert dms["decline_dee"][0]["content"].startswith("Thanks")


async def test_every_message_the_bot_sends_pings_no_one(harness: Harness) -> None:
    await harness.start()
    for name in ("decline_a", "decline_b", "later_c"):
        await harness.decided(await harness.join(name))
    await harness.idle()
    posts = [r for r in harness.standin.recorder.requests("POST") if r.path.endswith("/messages")]
    assert len(posts) == 3
    for post in posts:
        assert post.json["allowed_mentions"]["parse"] == []
        assert post.json.get("nonce", "").startswith(harness.store.nonce_prefix)


async def test_late_follow_back_survives_a_restart_and_fires_once(harness: Harness) -> None:
    await harness.start()
    user = await harness.join("later_lou")
    [decision] = await harness.decided(user)
    assert decision.action == "later" and decision.due is not None
    await harness.stop()  # the bot goes down before the follow-back is due

    await harness.start()  # a new client on the same database
    await eventually(lambda: harness.has_role(user), timeout=15)
    await harness.idle()
    await harness.stop()
    await harness.start()  # and once more: nothing fires twice
    await harness.idle()
    assert harness.role_puts(user) == 1
    [timer] = await harness.store.timers_for(harness.guild_id, user)
    assert timer.status == "fired"


async def test_observe_window_survives_a_restart_and_decides_on_what_it_saw(
    harness: Harness,
) -> None:
    await harness.start()
    talker = await harness.join("observe_talker")
    silent = await harness.join("observe_silent")
    await harness.decided(talker)
    await harness.decided(silent)
    for text in ("hello", "nice server"):
        await harness.standin.say(harness.world.general_channel_id, talker, text)
    await eventually(lambda: _messages_counted(harness, talker, 2), timeout=5)
    await harness.stop()
    await harness.start()

    talker_decisions = await harness.decided(talker, count=2, timeout=15)
    silent_decisions = await harness.decided(silent, count=2, timeout=15)
    await harness.idle()
    assert [d.action for d in talker_decisions] == ["observe", "follow_back"]
    assert talker_decisions[-1].observed
    assert [d.action for d in silent_decisions] == ["observe", "decline"]
    assert harness.has_role(talker) and not harness.has_role(silent)
    assert len(harness.standin.dms_to(silent)) == 1  # the decline's DM, once


async def _messages_counted(harness: Harness, user_id: int, count: int) -> bool:
    member = await harness.store.get_member(harness.guild_id, user_id)
    return member is not None and member.messages >= count


class SimulatedCrash(Exception):
    """Raised between 'action sent' and 'action marked done'."""


def crash_once_after(kind: str) -> Callable[[OutboxRow], Awaitable[None]]:
    crashed: set[int] = set()

    async def hook(row: OutboxRow) -> None:
        if row.kind == kind and row.id not in crashed:
            crashed.add(row.id)
            raise SimulatedCrash(f"crash after sending outbox row {row.id}")

    return hook


async def test_a_crash_between_send_and_done_sends_nothing_twice(harness: Harness) -> None:
    # Round 1: the DM goes out, then the process "dies" before marking it done.
    await harness.start(after_send=crash_once_after("dm"))
    decliner = await harness.join("decline_dan")
    await harness.decided(decliner)
    await eventually(lambda: len(harness.standin.dms_to(decliner)) == 1)
    await eventually(lambda: _in_doubt(harness, 1))
    await harness.stop()

    # Round 2: recovery re-sends with the same nonce (Discord returns the first
    # message); then a role change is made and the process dies again.
    await harness.start(after_send=crash_once_after("add_role"))
    follower = await harness.join("fb_fay")
    await harness.decided(follower)
    await eventually(lambda: harness.has_role(follower))
    await eventually(lambda: _in_doubt(harness, 1))
    await harness.stop()

    # Round 3: the role is read back before any second PUT.
    await harness.start()
    await harness.idle()
    assert len(harness.standin.dms_to(decliner)) == 1
    dm_posts = [
        r for r in harness.standin.recorder.requests("POST") if r.path.endswith("/messages")
    ]
    assert len(dm_posts) == 2 and dm_posts[0].json["nonce"] == dm_posts[1].json["nonce"]
    [dm] = await harness.store.actions_for(harness.guild_id, decliner)
    assert dm.status == "done"
    assert harness.has_role(follower)
    assert harness.role_puts(follower) == 1
    [role] = await harness.store.actions_for(harness.guild_id, follower)
    assert role.status == "done"


async def _in_doubt(harness: Harness, count: int) -> bool:
    return len(await harness.store.in_doubt_actions()) == count


async def test_closed_dms_are_recorded_and_the_follow_back_still_happens(
    harness: Harness,
) -> None:
    await harness.start()
    user = await harness.join("later_closed", dms_closed=True)
    await harness.decided(user)
    await harness.idle()
    [dm] = [row for row in await harness.store.actions_for(harness.guild_id, user)]
    assert dm.kind == "dm" and dm.status == "failed" and dm.last_error_code == 50007
    assert harness.standin.dms_to(user) == []
    await eventually(lambda: harness.has_role(user), timeout=15)
    dm_posts = [
        r for r in harness.standin.recorder.requests("POST") if r.path.endswith("/messages")
    ]
    assert len(dm_posts) == 1  # refused once, never retried


async def test_a_member_who_left_before_the_due_time_is_not_followed_back(
    harness: Harness,
) -> None:
    await harness.start()
    user = await harness.join("later_leaver")
    await harness.decided(user)
    await harness.standin.leave(harness.guild_id, user)
    await eventually(lambda: _timer_finished(harness, user), timeout=15)
    [timer] = await harness.store.timers_for(harness.guild_id, user)
    assert timer.outcome is not None and "left" in timer.outcome
    assert harness.role_puts(user) == 0


async def _timer_finished(harness: Harness, user_id: int) -> bool:
    timers = await harness.store.timers_for(harness.guild_id, user_id)
    return bool(timers) and timers[0].status != "scheduled"


async def test_membership_screening_is_awaited_before_deciding(harness: Harness) -> None:
    await harness.start()
    user = await harness.join("fb_pending", pending=True)
    await harness.idle()
    assert await harness.store.decisions_for(harness.guild_id, user) == []
    assert harness.role_puts(user) == 0
    await harness.standin.complete_screening(harness.guild_id, user)
    [decision] = await harness.decided(user)
    assert decision.action == "follow_back"
    await eventually(lambda: harness.has_role(user))


async def test_joins_while_offline_are_caught_up_and_hand_unfollows_respected(
    harness: Harness,
) -> None:
    await harness.start()
    friend = await harness.join("fb_friend")
    await eventually(lambda: harness.has_role(friend))
    await harness.idle()
    await harness.stop()

    offline = await harness.join("fb_offline")  # joins while the bot is down
    await harness.standin.set_member_roles(harness.guild_id, friend, [])  # owner unfollows
    await harness.start()
    [decision] = await harness.decided(offline)
    assert decision.action == "follow_back"
    await eventually(lambda: harness.has_role(offline))
    await harness.idle()
    member = await harness.store.get_member(harness.guild_id, friend)
    assert member.unfollowed_by_owner and not member.followed
    assert not harness.has_role(friend)
    assert harness.role_puts(friend) == 1  # never given back


async def test_a_declined_member_who_rejoins_is_not_messaged_again(harness: Harness) -> None:
    await harness.start()
    user = await harness.join("decline_again")
    await harness.decided(user)
    await harness.idle()
    await harness.standin.leave(harness.guild_id, user)
    await harness.standin.join(harness.guild_id, user_id=user, username="decline_again")
    await harness.decided(user, count=2)
    await harness.idle()
    member = await harness.store.get_member(harness.guild_id, user)
    assert member.times_rejoined == 1
    assert len(harness.standin.dms_to(user)) == 1


async def test_server_errors_and_rate_limits_delay_but_never_drop_a_follow_back(
    harness: Harness,
) -> None:
    route = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
    harness.standin.faults.fail(route, 429, count=1, retry_after=0.2)
    harness.standin.faults.fail(route, 503, count=6)  # more than discord.py's own retries
    await harness.start()
    user = await harness.join("fb_unlucky")
    await harness.decided(user)
    await eventually(lambda: harness.has_role(user), timeout=20)
    await harness.idle()
    [row] = await harness.store.actions_for(harness.guild_id, user)
    assert row.status == "done" and row.attempts >= 2


async def test_missing_permissions_is_recorded_not_retried(harness: Harness) -> None:
    route = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
    harness.standin.faults.fail(route, 403, code=50013, count=1)
    await harness.start()
    user = await harness.join("fb_forbidden")
    await harness.decided(user)
    await harness.idle()
    [row] = await harness.store.actions_for(harness.guild_id, user)
    assert row.status == "failed" and row.last_error_code == 50013
    assert harness.role_puts(user) == 1
    decision = await harness.store.latest_decision(harness.guild_id, user)
    assert decision.action == "follow_back"  # the decision stands, recorded


async def test_the_daily_dm_cap_defers_instead_of_dropping(harness: Harness, tmp_path) -> None:
    policy = tmp_path / "capped.yaml"
    text = harness.settings().policy.read_text()
    policy.write_text(text.replace("dms_per_day: 40", "dms_per_day: 2"))
    await harness.start(policy=policy)
    users = [await harness.join(f"decline_{i}") for i in range(3)]
    for user in users:
        await harness.decided(user)
    await eventually(lambda: sum(len(harness.standin.dms_to(u)) for u in users) == 2)
    rows = [row for u in users for row in await harness.store.actions_for(harness.guild_id, u)]
    waiting = [row for row in rows if row.status == "pending"]
    assert len(waiting) == 1
    assert waiting[0].not_before - harness.clock.now() <= timedelta(days=1)


async def test_in_opt_in_servers_the_follower_role_makes_a_follower(
    harness: Harness, tmp_path: Path
) -> None:
    policy = tmp_path / "opt-in.yaml"
    text = POLICY.read_text().replace(
        "follow_back: {role: Mutuals}", "follow_back: {role: Mutuals}\nfollower_role: Follower"
    )
    policy.write_text(text)
    follower_role = harness.standin.add_role(harness.guild_id, "Follower")
    await harness.start(policy=policy)
    user = await harness.join("fb_optin")
    await harness.idle()
    assert await harness.store.decisions_for(harness.guild_id, user) == []  # just a member

    await harness.standin.set_member_roles(harness.guild_id, user, [follower_role])
    [decision] = await harness.decided(user)
    assert decision.action == "follow_back"
    await eventually(lambda: harness.has_role(user))


async def test_a_broken_policy_edit_keeps_the_old_policy_and_tells_the_owner(
    harness: Harness, tmp_path: Path
) -> None:
    policy = tmp_path / "live.yaml"
    policy.write_text(POLICY.read_text())
    await harness.start(policy=policy, watch_policy=True, policy_watch_interval=0.1)
    assert harness.running is not None
    version = harness.running.policies.current.version
    policy.write_text(POLICY.read_text().replace("then: follow_back", "then: folow_back"))
    owner = harness.world.owner_id
    await eventually(lambda: len(harness.standin.dms_to(owner)) == 1)
    [notice] = harness.standin.dms_to(owner)
    assert "live.yaml:" in notice["content"] and "folow_back" in notice["content"]
    assert harness.running.policies.current.version == version  # the old one stays
    user = await harness.join("fb_still")
    [decision] = await harness.decided(user)
    assert decision.action == "follow_back"
