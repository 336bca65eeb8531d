"""Mentions end to end: real discord.py over sockets against the stand-in.

The policy (mentions_policy.yaml) waits 30 virtual minutes (half a real second) before a
reply, allows 3 replies per channel per hour and one per person per template per day.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.store import MentionRow, MentionStatus
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
