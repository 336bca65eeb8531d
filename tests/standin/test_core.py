"""Bare discord.py against the stand-in: members, roles, DMs, messages."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient

ROLE_PUT = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
MESSAGE_POST = "POST /channels/{channel_id}/messages"


async def test_login_and_ready_with_guild(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    assert bot.user is not None and bot.user.id == standin.bot_user_id
    assert bot.application_id == standin.app_id
    guild = bot.get_guild(world.guild_id)
    assert guild is not None
    role = guild.get_role(world.follow_back_role_id)
    assert role is not None and role.name == "Mutuals"
    assert guild.me is not None and guild.me.top_role > role
    assert guild.owner_id == world.owner_id
    assert {m.id for m in guild.members} == set(standin.world.guilds[world.guild_id].members)
    assert {c.name for c in guild.text_channels} == {"general", "followback-digest"}
    assert standin.recorder.requests("GET", "/users/@me")


async def test_member_join_reaches_on_member_join(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    created = datetime(2020, 5, 17, 12, 0, tzinfo=UTC)
    uid = await standin.join(world.guild_id, username="newbie", created_at=created, spammer=True)
    (member,) = (await bot.wait_seen("member_join"))[0]
    assert member.id == uid and member.name == "newbie"
    assert member.created_at == created
    assert member.public_flags.spammer
    assert member.pending is False
    assert member.avatar is None and not member.bot


async def test_screening_join_pending_then_update(standin: StandIn, connect: object) -> None:
    guild_id = standin.add_guild("Screened", screening=True)
    bot = await connect()  # type: ignore[operator]
    uid = await standin.join(guild_id, username="waiting")
    (member,) = (await bot.wait_seen("member_join"))[0]
    assert member.pending is True
    await standin.complete_screening(guild_id, uid)
    before, after = (await bot.wait_seen("member_update"))[0]
    assert before.pending and not after.pending


async def test_role_added_is_in_state(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    uid = world.member_ids[0]
    guild = bot.get_guild(world.guild_id)
    assert guild is not None
    member = guild.get_member(uid)
    assert member is not None
    await member.add_roles(discord.Object(world.follow_back_role_id), reason="follow back")
    assert world.follow_back_role_id in standin.member_roles(world.guild_id, uid)
    (req,) = standin.recorder.requests("PUT", ROLE_PUT)
    assert req.status == 204
    assert req.path == f"/guilds/{world.guild_id}/members/{uid}/roles/{world.follow_back_role_id}"
    _, after = (await bot.wait_seen("member_update"))[0]
    assert world.follow_back_role_id in [r.id for r in after.roles]
    await member.remove_roles(discord.Object(world.follow_back_role_id))
    assert world.follow_back_role_id not in standin.member_roles(world.guild_id, uid)


async def test_role_errors_have_discord_codes(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    above = standin.add_role(world.guild_id, "Admins", position=50)
    http = bot.http
    with pytest.raises(discord.Forbidden) as forbidden:
        await http.add_role(world.guild_id, world.member_ids[0], above)
    assert forbidden.value.code == 50013
    with pytest.raises(discord.NotFound) as no_member:
        await http.add_role(world.guild_id, 1234567890123, world.follow_back_role_id)
    assert no_member.value.code == 10007
    with pytest.raises(discord.NotFound) as no_role:
        await http.add_role(world.guild_id, world.member_ids[0], 1234567890123)
    assert no_role.value.code == 10011


async def test_dm_recorded_with_allowed_mentions(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    uid = world.member_ids[1]
    user = await bot.fetch_user(uid)
    sent = await user.send(f"Hi <@{uid}>, thanks for following!")
    assert isinstance(sent.channel, discord.DMChannel)
    (dm,) = standin.dms_to(uid)
    assert dm["content"].startswith("Hi ")
    (opened,) = standin.recorder.requests("POST", "/users/@me/channels")
    assert opened.json == {"recipient_id": uid}
    (post,) = standin.recorder.requests(route=MESSAGE_POST)
    assert post.json["content"] == dm["content"]
    assert post.json["allowed_mentions"] == {"parse": []}
    assert dm["mentions"] == []  # AllowedMentions.none(): nobody pinged
    again = await user.send("second")  # the DM channel is reused
    assert again.channel.id == sent.channel.id


async def test_repeated_nonce_returns_same_message(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    channel = bot.get_channel(world.general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("digest page 1", nonce="outbox-42")
    second = await channel.send("digest page 1", nonce="outbox-42")
    assert first.id == second.id
    assert len(standin.messages(world.general_channel_id)) == 1
    third = await channel.send("digest page 1", nonce="outbox-43")
    assert third.id != first.id
    posts = standin.recorder.requests(route=MESSAGE_POST)
    assert [p.json["enforce_nonce"] for p in posts] == [True, True, True]


async def test_closed_dms_raise_forbidden_50007(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    uid = await standin.join(world.guild_id, username="private", dms_closed=True)
    user = await bot.fetch_user(uid)
    with pytest.raises(discord.Forbidden) as exc:
        await user.send("hello")
    assert exc.value.code == 50007
    assert exc.value.status == 403
    bot_id = await standin.join(world.guild_id, username="otherbot", bot=True)
    with pytest.raises(discord.HTTPException) as dm_bot:
        await bot.http.start_private_message(bot_id)
    assert dm_bot.value.status == 400 and dm_bot.value.code == 50007


async def test_message_create_mentions_and_replies(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    author = world.member_ids[0]
    first = await standin.say(world.general_channel_id, world.owner_id, "welcome all")
    await standin.say(
        world.general_channel_id,
        author,
        f"<@{world.owner_id}> follow me back?",
        reply_to=int(first["id"]),
    )
    msgs = await bot.wait_seen("message", 2)
    (msg,) = msgs[1]
    assert msg.content.endswith("follow me back?")
    assert [u.id for u in msg.mentions] == [world.owner_id]
    assert isinstance(msg.mentions[0], discord.Member)
    assert msg.reference is not None and msg.reference.message_id == int(first["id"])
    assert msg.type is discord.MessageType.reply
    assert msg.author.id == author and isinstance(msg.author, discord.Member)


async def test_unknown_route_is_404_and_recorded(standin: StandIn, bot: BareClient) -> None:
    from discord.http import Route

    with pytest.raises(discord.NotFound) as exc:
        await bot.http.request(Route("GET", "/nowhere/{x}", x=1))
    assert exc.value.code == 0
    (req,) = standin.recorder.requests("GET")[-1:]
    assert req.path == "/nowhere/1" and req.status == 404
