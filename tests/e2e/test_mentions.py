"""Mentions end to end: real discord.py over sockets against the stand-in.

The policy (mentions_policy.yaml) waits 30 virtual minutes (half a real second) before a
reply, allows 3 replies per channel per hour and one per person per template per day.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.client.target import point_discord_at, reset_discord_target
from bot.standin import StandIn
from bot.standin.model import Message
from bot.store import MentionRow, MentionStatus
from tests.conftest import pings_someone
from tests.e2e.conftest import Harness, eventually

POLICY = Path(__file__).with_name("mentions_policy.yaml")
SILENT = 1 << 12  # SUPPRESS_NOTIFICATIONS


async def start(h: Harness, **options: Any) -> None:
    await h.start(POLICY, **options)


async def member(h: Harness, username: str, **kw: Any) -> int:
    return await h.join(username, **kw)


async def mention(h: Harness, author: int, text: str, **kw: Any) -> int:
    said = await h.standin.say(h.world.general_channel_id, author, text, **kw)
    return int(said["id"])


def owner_ping(h: Harness) -> str:
    return f"<@{h.world.owner_id}>"


async def settled(h: Harness, message_id: int, timeout: float = 10.0) -> MentionRow:
    """The stored mention once it no longer waits."""
    found: list[MentionRow] = []

    async def done() -> bool:
        row = await h.store.mention_by_message(message_id)
        if row is None or row.status in (MentionStatus.RECEIVED, MentionStatus.WAITING):
            return False
        found.append(row)
        return True

    await eventually(done, timeout)
    return found[-1]


async def sent(h: Harness, row: MentionRow) -> dict[str, Any]:
    """The reply's outbox row once it went out, and the message the stand-in holds."""
    assert row.outbox_id is not None

    async def out() -> bool:
        action = await h.store.get_action(row.outbox_id)
        return action is not None and action.status in ("done", "failed")

    await eventually(out)
    action = await h.store.get_action(row.outbox_id)
    assert action is not None
    return {"action": action, "message": _bot_reply_to(h, row.message_id)}


def _bot_reply_to(h: Harness, message_id: int) -> dict[str, Any] | None:
    for message in h.standin.messages(h.world.general_channel_id):
        reference = message.get("message_reference") or {}
        if message["author"]["id"] == str(h.standin.bot_user_id) and reference.get(
            "message_id"
        ) == str(message_id):
            return message
    return None


def bot_messages(h: Harness, channel_id: int | None = None) -> list[dict[str, Any]]:
    channel = channel_id or h.world.general_channel_id
    bot = str(h.standin.bot_user_id)
    return [m for m in h.standin.messages(channel) if m["author"]["id"] == bot]


# --- each rule kind ----------------------------------------------------------------------


async def test_a_thank_you_is_a_reply_that_pings_no_one(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "fan_fay")
    message_id = await mention(h, fan, f"{owner_ping(h)} loved the stream")
    row = await settled(h, message_id)
    assert (row.status, row.rule, row.template) == ("queued", "everyone", "thank")
    assert "matched" in (row.explanation or "")
    out = await sent(h, row)
    reply = out["message"]
    assert reply is not None and reply["content"].startswith(("Thanks", "Appreciate"))
    assert "fan_fay" in reply["content"]
    assert reply["mentions"] == [] and reply["allowed_mentions"]["parse"] == []
    assert reply["allowed_mentions"].get("replied_user") is False
    assert not reply["flags"] & SILENT


async def test_a_follow_me_back_gets_the_polite_silent_answer(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "asker_ann")
    message_id = await mention(h, fan, f"{owner_ping(h)} follow me back?")
    row = await settled(h, message_id)
    assert (row.rule, row.template) == ("asks for a follow-back", "no_follow_back_owed")
    reply = (await sent(h, row))["message"]
    assert reply is not None and reply["content"].startswith("Thanks for asking, asker_ann")
    assert reply["flags"] & SILENT


async def test_notify_lists_the_mention_and_ignore_does_nothing(harness: Harness) -> None:
    h = harness
    await start(h)
    owner_said = await mention(h, h.world.owner_id, "new video is up")
    fan = await member(h, "replier_rex")
    muted = await member(h, "mute_moe")
    reply_id = await mention(h, fan, "great one", reply_to=owner_said)
    ignored_id = await mention(h, muted, f"{owner_ping(h)} hey")
    listed = await settled(h, reply_id)
    ignored = await settled(h, ignored_id)
    assert (listed.status, listed.rule) == ("listed", "replies to me")
    assert listed.replies_to_owner
    assert (ignored.status, ignored.rule) == ("ignored", "muted")
    now = h.clock.now()
    unanswered = await h.store.unanswered_mentions(now - timedelta(days=1), now)
    assert [m.message_id for m in unanswered] == [reply_id]
    await h.idle()
    assert bot_messages(h) == []


async def test_one_message_naming_the_owner_twice_is_one_mention(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "twice_tia")
    ping = owner_ping(h)
    message_id = await mention(h, fan, f"{ping} {ping} hi <@{h.standin.bot_user_id}>")
    row = await settled(h, message_id)
    assert row.mentions_owner and row.mentions_bot
    await sent(h, row)
    assert len(await h.store.mentions_in(h.guild_id)) == 1
    assert len(bot_messages(h)) == 1


# --- the cooldown, across a restart --------------------------------------------------


async def test_the_cooldown_holds_across_a_restart(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "again_abe")
    first = await settled(h, await mention(h, fan, f"{owner_ping(h)} first"))
    await sent(h, first)
    await h.stop()
    await start(h)
    second = await settled(h, await mention(h, fan, f"{owner_ping(h)} second"))
    assert second.status == "skipped" and "cooldown" in (second.outcome or "")
    # Another template is its own cooldown (RFC 5230: per sender per response).
    third = await settled(h, await mention(h, fan, f"{owner_ping(h)} follow back pls"))
    assert third.status == "queued"
    await sent(h, third)
    await h.idle()
    assert len(bot_messages(h)) == 2


async def test_a_second_person_gets_the_other_variant(harness: Harness) -> None:
    h = harness
    await start(h)
    texts = []
    for name in ("vary_val", "vary_vic"):
        row = await settled(h, await mention(h, await member(h, name), f"{owner_ping(h)} hi"))
        reply = (await sent(h, row))["message"]
        assert reply is not None
        texts.append(reply["content"].split(",")[0])
    assert len(set(texts)) == 2  # "Thanks for the mention" then "Appreciate the mention"


# --- never embarrassing ------------------------------------------------------------------


async def test_no_reply_to_a_bot_a_webhook_or_the_bot_itself(harness: Harness) -> None:
    h = harness
    await start(h)
    ping = owner_ping(h)
    robot = h.standin.add_user("helper_bot", bot=True)
    h.standin.add_member(h.guild_id, robot)
    from_bot = await mention(h, robot, f"{ping} beep")
    from_itself = await mention(h, h.standin.bot_user_id, f"{ping} echo")
    hook_user = h.standin.add_user("announcer")  # a webhook's author is not flagged a bot
    hook_message = Message(
        id=h.standin.world.new_id(),
        channel_id=h.world.general_channel_id,
        author_id=hook_user,
        content=f"{ping} new post",
        guild_id=h.guild_id,
        mentions=[h.world.owner_id],
        webhook_id=h.standin.world.new_id(),
    )
    h.standin.events.message_created(hook_message)
    bot_row = await settled(h, from_bot)
    hook_row = await settled(h, hook_message.id)
    assert (bot_row.status, bot_row.author_kind) == ("skipped", "bot")
    assert "bot" in (bot_row.outcome or "")
    assert (hook_row.status, hook_row.author_kind) == ("skipped", "webhook")
    assert "webhook" in (hook_row.outcome or "")
    await h.idle()
    assert await h.store.mention_by_message(from_itself) is None  # its own: never a mention
    assert [m["id"] for m in bot_messages(h)] == [str(from_itself)]  # the test's own


async def test_two_bots_mentioning_each_other_cannot_start_a_loop(harness: Harness) -> None:
    h = harness
    await start(h)
    me = h.standin.bot_user_id
    ping_pong = [h.standin.add_user(name, bot=True) for name in ("ping_bot", "pong_bot")]
    for uid in ping_pong:
        h.standin.add_member(h.guild_id, uid)
    for round_ in range(5):
        for speaker, other in (ping_pong, ping_pong[::-1]):
            await mention(h, speaker, f"<@{me}> <@{other}> round {round_}")
    await eventually(lambda: _count_mentions(h, 10))
    await h.idle()
    assert bot_messages(h) == []
    rows = await h.store.mentions_in(h.guild_id)
    assert {r.status for r in rows} == {"skipped"}


async def test_the_channel_budget_caps_replies_per_hour(harness: Harness) -> None:
    h = harness
    await start(h)
    ids = [
        await mention(h, await member(h, f"crowd_{n}"), f"{owner_ping(h)} hi {n}") for n in range(5)
    ]
    rows = [await settled(h, i) for i in ids]
    assert [r.status for r in rows].count("queued") == 3  # channel_budget: 3
    over = [r for r in rows if r.status == "skipped"]
    assert len(over) == 2 and all("budget" in (r.outcome or "") for r in over)


async def test_the_never_reply_list_is_honoured(harness: Harness) -> None:
    h = harness
    await start(h)
    hal = await member(h, "hushed_hal")
    row = await settled(h, await mention(h, hal, f"{owner_ping(h)} hello"))
    assert row.status == "skipped" and "never-reply" in (row.outcome or "")


# --- the owner answers first -------------------------------------------------------------


async def test_the_owner_posting_within_reply_after_suppresses_the_reply(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "early_eve")
    message_id = await mention(h, fan, f"{owner_ping(h)} are you there?")
    await mention(h, h.world.owner_id, "yes, here!", reply_to=message_id)
    row = await settled(h, message_id)
    assert row.status == "owner_answered"
    timer = await h.store.get_timer(row.timer_id)
    assert timer is not None and timer.status == "cancelled"
    await h.idle()
    assert bot_messages(h) == []


async def test_the_owner_reacting_suppresses_the_reply(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "react_ria")
    message_id = await mention(h, fan, f"{owner_ping(h)} look at this")
    await h.standin.react(message_id, h.world.owner_id, "👍")
    row = await settled(h, message_id)
    assert row.status == "owner_answered" and "react" in (row.outcome or "")
    await h.idle()
    assert bot_messages(h) == []


# --- nothing missed while offline --------------------------------------------------------


async def test_a_mention_made_while_down_is_answered_once_at_start(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "offline_otto")
    await mention(h, fan, "just chatting")  # a message seen: the channel's cursor
    await h.stop()
    message_id = await mention(h, fan, f"{owner_ping(h)} while you were away")
    await start(h)
    row = await settled(h, message_id)
    assert (row.status, row.source) == ("queued", "catch_up")
    await sent(h, row)
    await h.stop()
    await start(h)  # the history is read again: the mention is not answered twice
    await asyncio.sleep(0.5)
    await h.idle()
    assert len(bot_messages(h)) == 1
    assert len(await h.store.mentions_in(h.guild_id)) == 1


async def test_a_mention_older_than_reply_max_age_is_listed_not_answered(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "stale_stu")
    await h.stop()
    # Posted 8 real seconds ago: 8 hours at the tests' speed (reply_max_age: 6h).
    world = h.standin.world
    posted = world.now() - timedelta(seconds=8)
    old = Message(
        id=world.new_id(posted),
        channel_id=h.world.general_channel_id,
        author_id=fan,
        content=f"{owner_ping(h)} hello?",
        guild_id=h.guild_id,
        mentions=[h.world.owner_id],
    )
    world.add_message(old)  # while the bot is down: only the history has it
    message_id = old.id
    await start(h)
    row = await settled(h, message_id)
    assert row.status == "too_old"
    now = h.clock.now()
    unanswered = await h.store.unanswered_mentions(now - timedelta(days=1), now)
    assert [m.message_id for m in unanswered] == [message_id]
    await h.idle()
    assert bot_messages(h) == []


# --- deleted messages and channels the bot may not post in -------------------------------


async def test_a_mention_deleted_while_waiting_gets_no_reply(harness: Harness) -> None:
    h = harness
    await start(h)
    fan = await member(h, "delete_dan")
    message_id = await mention(h, fan, f"{owner_ping(h)} oops")
    await h.standin.delete(message_id)
    row = await settled(h, message_id)
    assert row.status == "deleted"
    await h.idle()
    assert bot_messages(h) == []


async def test_a_reply_to_a_message_deleted_unseen_is_recorded_not_retried(
    harness: Harness,
) -> None:
    h = harness
    await start(h)
    fan = await member(h, "vanish_val")
    message_id = await mention(h, fan, f"{owner_ping(h)} here and gone")
    h.standin.world.delete_message(message_id)  # gone, and the bot was never told
    row = await settled(h, message_id)
    out = await sent(h, row)
    action = out["action"]
    assert action.status == "failed" and action.attempts == 1
    assert action.last_error_code is not None
    assert bot_messages(h) == []  # never posted bare, out of context
    await asyncio.sleep(0.5)
    posts = h.standin.recorder.requests("POST", "/channels/{channel_id}/messages")
    assert len(posts) == 1  # one try, no retry
    now = h.clock.now()
    unanswered = await h.store.unanswered_mentions(now - timedelta(days=1), now)
    assert [m.message_id for m in unanswered] == [message_id]


async def test_a_channel_the_bot_may_not_post_in_is_recorded_not_retried(
    harness: Harness,
) -> None:
    h = harness
    await start(h)
    fan = await member(h, "quiet_room_quin")
    send_messages = 1 << 11
    h.standin.set_overwrite(
        h.world.general_channel_id, h.world.everyone_role_id, deny=send_messages
    )
    message_id = await mention(h, fan, f"{owner_ping(h)} hi")
    row = await settled(h, message_id)
    action = (await sent(h, row))["action"]
    assert (action.status, action.last_error_code, action.attempts) == ("failed", 50013, 1)
    assert bot_messages(h) == []


async def _count_mentions(h: Harness, count: int) -> bool:
    return len(await h.store.mentions_in(h.guild_id)) >= count


def test_the_suite_wide_ping_check_knows_a_ping_when_it_sees_one() -> None:
    # tests/conftest.py runs pings_someone over every message the bot sent in every test.
    none = {"parse": [], "replied_user": False}
    assert pings_someone({"content": "hi <@1>", "allowed_mentions": none}) is None
    assert pings_someone({"content": "hi <@1>"}) is not None
    assert pings_someone({"content": "@everyone", "allowed_mentions": {"parse": ["everyone"]}})
    assert pings_someone({"content": "ok", "allowed_mentions": {"replied_user": True}})
    assert pings_someone({"type": 4, "data": {"content": "hi", "allowed_mentions": None}})
    assert pings_someone({"type": 6}) is None  # no message: nothing to ping


async def test_without_message_content_the_start_names_the_text_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    standin = StandIn(privileged_intents={"members"})  # no MESSAGE_CONTENT in the portal
    await standin.start()
    point_discord_at(standin.base_url)
    h = Harness(standin, standin.seed_sample(), tmp_path / "bot.sqlite3")
    try:
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            await start(h)
        said = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
        assert any("'asks for a follow-back'" in line for line in said), said
        fan = await member(h, "textless_tom")
        row = await settled(h, await mention(h, fan, f"{owner_ping(h)} follow me back?"))
        assert row.text is None and row.rule == "everyone"  # the text rule cannot match
        assert "text unknown" in (row.explanation or "")
    finally:
        await h.stop()
        await standin.stop()
        reset_discord_target()
