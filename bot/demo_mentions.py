"""The demo's mentions act: one mention of each kind, in the bot's own words.

A thank-you, a polite answer to "follow me back?", one the owner answers first (the
bot stays silent), one from a bot (ignored), and one in a channel the bot may not post
in (the refusal is recorded, never retried).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from bot.standin import SampleWorld, StandIn
from bot.store import MentionStatus, Store

SEND_MESSAGES = 1 << 11
_OPEN = (MentionStatus.RECEIVED, MentionStatus.WAITING)


class Stage(Protocol):
    """What the demo gives this act (bot.demo.Demo)."""

    standin: StandIn
    world: SampleWorld
    ids: dict[str, int]

    def say(self, text: str) -> None: ...

    def heading(self, text: str) -> None: ...

    def store(self) -> Store: ...


async def mention_kinds(stage: Stage) -> bool:
    """Returns True when each mention ended as its kind should."""
    s, w = stage.standin, stage.world
    owner = f"<@{w.owner_id}>"
    general = w.general_channel_id
    stage.heading("mentions: thanked, answered politely, left to the owner, ignored, refused")
    expected: dict[int, str] = {}

    async def say(name: str, text: str, channel: int = general, reply_to: int | None = None) -> int:
        where = "" if channel == general else " in #announcements"
        stage.say(f"{name}{where}: {text.replace(owner, '@owner')!r}")
        author = w.owner_id if name == "owner" else stage.ids[name]
        said = await s.say(channel, author, text, reply_to=reply_to)
        return int(said["id"])

    expected[await say("regular_rae", f"{owner} loved the last stream!")] = "done"
    expected[await say("newbie_nia", f"{owner} follow me back?")] = "done"
    # The owner posting in #general answers every mention still waiting there: let
    # these two be answered first.
    settled = await _ended(stage.store(), dict(expected))
    asked = await say("barbara_l", f"{owner} are you coming on Friday?")
    await say("owner", "Yes, see you there!", reply_to=asked)  # before the bot's wait ends
    expected[asked] = MentionStatus.OWNER_ANSWERED
    expected[await say("helperbot", f"{owner} build #512 passed")] = MentionStatus.IGNORED
    stage.say("the owner opens #announcements, where the bot may not post")
    announcements = s.add_text_channel(w.guild_id, "announcements")
    s.set_overwrite(announcements, w.everyone_role_id, deny=SEND_MESSAGES)
    await asyncio.sleep(0.1)  # the channel reaches the bot before anyone speaks there
    refused = await say("plain_pam", f"{owner} congrats on the launch", channel=announcements)
    expected[refused] = "failed"
    return await _ended(stage.store(), expected) and settled


async def _ended(store: Store, expected: dict[int, str], timeout: float = 10.0) -> bool:
    """Wait until each mention ended; True when each ended as expected (a reply's end is
    its outbox row's: done or failed)."""
    deadline = time.monotonic() + timeout
    ends: dict[int, str] = {}
    while time.monotonic() < deadline:
        for message_id in expected:
            row = await store.mention_by_message(message_id)
            if row is None or row.status in _OPEN:
                continue
            end = str(row.status)
            if row.outbox_id is not None:
                action = await store.get_action(row.outbox_id)
                end = action.status if action is not None else end
            ends[message_id] = end
        if ends == expected:
            return True
        await asyncio.sleep(0.05)
    return False
