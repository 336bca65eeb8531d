"""Message content without the MESSAGE_CONTENT intent, and repeated member adds.

Docs: events/gateway.mdx "Message Content Intent" (content, embeds, attachments, components and
poll are empty without it, except in DMs, the app's own messages and messages that mention it —
the same for messages the app fetches over REST); events/gateway-events.mdx "Guild Member Add"
("This event may also be sent for users who are already members of the guild").
"""

from __future__ import annotations

import discord

from bot.standin import SampleWorld, StandIn
from tests.standin.conftest import Connect
from tests.standin.helpers import BareClient


def _no_content_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.members = True
    return intents


async def test_rest_reads_and_nested_replies_are_empty_without_the_intent(
    world: SampleWorld, connect: Connect, standin: StandIn
) -> None:
    """events/gateway.mdx "Message Content Intent": REST reads and a reply's referenced_message
    come without content, as on the gateway; a message mentioning the app keeps its content."""
    standin.privileged_intents.discard("message_content")
    bot = await connect(_no_content_intents())
    general, author = world.general_channel_id, world.member_ids[0]
    first = await standin.say(general, author, "secret plans")
    reply = await standin.say(general, world.member_ids[1], "agreed", reply_to=int(first["id"]))
    ping = await standin.say(general, author, f"<@{standin.bot_user_id}> hello")
    channel = bot.get_channel(general)
    assert isinstance(channel, discord.TextChannel)
    assert (await channel.fetch_message(int(first["id"]))).content == ""
    fetched_reply = await channel.fetch_message(int(reply["id"]))
    assert fetched_reply.content == ""
    assert isinstance(fetched_reply.reference, discord.MessageReference)
    resolved = fetched_reply.reference.resolved
    assert isinstance(resolved, discord.Message) and resolved.content == ""
    history = {m.id: m.content async for m in channel.history(limit=10)}
    assert history[int(ping["id"])] == f"<@{standin.bot_user_id}> hello"
    assert history[int(first["id"])] == ""
    seen = await bot.wait_seen("message", 3)
    created = seen[1][0]
    assert created.id == int(reply["id"]) and created.reference is not None
    assert isinstance(created.reference.resolved, discord.Message)
    assert created.reference.resolved.content == ""  # the gateway's nested copy too


async def test_the_content_is_kept_with_the_intent(
    world: SampleWorld, bot: BareClient, standin: StandIn
) -> None:
    first = await standin.say(world.general_channel_id, world.member_ids[0], "visible")
    channel = bot.get_channel(world.general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    assert (await channel.fetch_message(int(first["id"]))).content == "visible"


async def test_a_repeated_member_add_reaches_the_client(
    world: SampleWorld, bot: BareClient, standin: StandIn
) -> None:
    """events/gateway-events.mdx "Guild Member Add": "may also be sent for users who are already
    members of the guild"; discord.py drops it for a cached member (no second on_member_join)."""
    uid = world.member_ids[0]
    await standin.repeat_join(world.guild_id, uid)
    await standin.join(world.guild_id, username="after")  # a marker that the first arrived
    types = [args[0] for args in await bot.wait_seen("member_join")]
    assert [m.name for m in types] == ["after"]
    sent = [a[0] for a in bot.seen["socket_event_type"]]
    assert sent.count("GUILD_MEMBER_ADD") == 2
    assert len(standin.world.guilds[world.guild_id].members) == len(world.member_ids) + 3
