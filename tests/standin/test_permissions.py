"""Channel permissions with overwrites, against a bare discord.py client.

Docs: resources/message.mdx "Create Message" limitations ("the current user must have the
SEND_MESSAGES permission"; a reply needs READ_MESSAGE_HISTORY), topics/permissions.mdx
`compute_overwrites` (@everyone, then role, then member overwrites; "Denying ... VIEW_CHANNEL on a
channel implicitly denies other permissions"), topics/opcodes-and-status-codes.mdx (50001
Missing access, 50013 You lack permissions to perform that action).
"""

from __future__ import annotations

import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient

VIEW, SEND, HISTORY = 1 << 10, 1 << 11, 1 << 16


def _channel(bot: BareClient, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_a_channel_the_bot_cannot_see_is_50001(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """resources/message.mdx "Create Message"; 50001 for a channel without VIEW_CHANNEL, even
    though SEND_MESSAGES is allowed by the bot's role (denying view denies the rest)."""
    standin.set_overwrite(world.general_channel_id, world.guild_id, deny=VIEW)
    with pytest.raises(discord.Forbidden) as refused:
        await _channel(bot, world.general_channel_id).send("hello")
    assert refused.value.code == 50001
    with pytest.raises(discord.Forbidden) as unread:
        await _channel(bot, world.general_channel_id).fetch_message(1)
    assert unread.value.code == 50001
    assert standin.messages(world.general_channel_id) == []


async def test_send_denied_to_the_bots_role_is_50013_and_a_member_overwrite_wins(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """topics/permissions.mdx `compute_overwrites`: role overwrites, then the member's own
    overwrite last; resources/message.mdx "Create Message": SEND_MESSAGES is required."""
    general = world.general_channel_id
    standin.set_overwrite(general, world.bot_role_id, deny=SEND)
    await bot.wait_seen("guild_channel_update")
    with pytest.raises(discord.Forbidden) as refused:
        await _channel(bot, general).send("hello")
    assert refused.value.code == 50013
    assert (
        _channel(bot, general).permissions_for(_channel(bot, general).guild.me).send_messages
        is False
    )
    standin.set_overwrite(general, standin.bot_user_id, allow=SEND, member=True)
    sent = await _channel(bot, general).send("now I may")
    assert [m["id"] for m in standin.messages(general)] == [str(sent.id)]


async def test_a_reply_needs_read_message_history(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """resources/message.mdx "Create Message": "When creating a message as a reply to another
    message, the current user must have the READ_MESSAGE_HISTORY permission"."""
    said = await standin.say(world.general_channel_id, world.member_ids[0], "hi bot")
    standin.set_overwrite(world.general_channel_id, world.bot_role_id, deny=HISTORY)
    await bot.wait_seen("guild_channel_update")
    target = _channel(bot, world.general_channel_id).get_partial_message(int(said["id"]))
    with pytest.raises(discord.Forbidden) as refused:
        await target.reply("hello")
    assert refused.value.code == 50013
    await _channel(bot, world.general_channel_id).send("a plain message is fine")
