"""Gateway behaviour: intents, 4014/4004, resume with replay, invalid session, zlib-stream."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.conftest import Connect
from tests.standin.helpers import BareClient


async def test_no_member_events_without_members_intent(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    bot = await connect(discord.Intents.default())  # members off, message_content off
    guild = bot.get_guild(world.guild_id)
    assert guild is not None
    assert [m.id for m in guild.members] == [standin.bot_user_id]  # only itself
    assert guild.member_count == len(standin.world.guilds[world.guild_id].members)
    await standin.join(world.guild_id, username="silent")
    # a message proves the stream went on while the join was filtered out
    msg = await standin.say(world.general_channel_id, world.member_ids[0], "hello there")
    (seen,) = (await bot.wait_seen("message"))[0]
    assert seen.id == int(msg["id"])
    assert seen.content == ""  # no message-content intent, bot not mentioned
    assert bot.seen["member_join"] == []


async def test_content_kept_when_bot_mentioned_without_intent(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    bot = await connect(discord.Intents.default())
    await standin.say(world.general_channel_id, world.member_ids[0], f"<@{standin.bot_user_id}> hi")
    await standin.say(world.general_channel_id, world.member_ids[0], f"<@{world.owner_id}> hi")
    (first,), (second,) = await bot.wait_seen("message", 2)
    assert first.content.endswith(" hi")
    assert second.content == "" and [u.id for u in second.mentions] == [world.owner_id]


async def test_privileged_intent_not_enabled_closes_4014(world: SampleWorld) -> None:
    from bot.client.target import point_discord_at, reset_discord_target
    from tests.standin.helpers import TOKEN, BareClient, all_intents

    standin = StandIn(token=TOKEN, privileged_intents={"message_content"})
    standin.seed_sample()
    await standin.start()
    point_discord_at(standin.base_url)
    client = BareClient(all_intents())
    try:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.start(TOKEN), 10)
    finally:
        await client.close()
        await standin.stop()
        reset_discord_target()


async def test_bad_token(standin: StandIn, connect: Connect) -> None:
    with pytest.raises(discord.LoginFailure):
        await connect(token="wrong")


async def test_dropped_connection_resumes_and_replays(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    bot = await connect()
    (session,) = standin.sessions()
    await standin.drop_connection(resumable=True)
    # events while the bot is away are kept for the resume
    uid = await standin.join(world.guild_id, username="while_away")
    await bot.wait_seen("resumed", timeout=10)
    (member,) = (await bot.wait_seen("member_join"))[0]
    assert member.id == uid
    assert standin.sessions() == [session]  # same session, resumed
    resumes = [s for s in bot.seen["socket_event_type"] if s == ("RESUMED",)]
    assert len(resumes) == 1
    assert len(bot.seen["ready"]) == 1


async def test_invalid_session_reidentifies(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    bot = await connect()
    (old,) = standin.sessions()
    await standin.drop_connection(resumable=False)
    await bot.wait_seen("ready", 2, timeout=10)
    (new,) = standin.sessions()
    assert new.id != old.id


async def test_two_clients_each_get_events(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    first = await connect()
    second = await connect()
    await standin.join(world.guild_id, username="both")
    await first.wait_seen("member_join")
    await second.wait_seen("member_join")
    assert len(standin.connected_sessions()) == 2


async def test_zlib_stream_is_used(standin: StandIn, world: SampleWorld, connect: Connect) -> None:
    bot = await connect(enable_debug_events=True)
    await standin.say(world.general_channel_id, world.member_ids[0], "compressed")
    await bot.wait_seen("message")
    assert bot.seen["socket_raw_receive"]  # frames went through discord.py's zlib inflater
    gateway = [c for c in standin.gateway.connections]
    assert gateway and all(c.compression == "zlib-stream" for c in gateway)


async def test_chunking_for_large_guild(standin: StandIn, connect: Connect) -> None:
    guild_id = standin.add_guild("Large")
    await standin.join_many(guild_id, 300)
    bot = await connect()
    guild = bot.get_guild(guild_id)
    assert guild is not None and guild.chunked
    assert len(guild.members) == 302  # owner + bot + 300
    assert any(s.has(1 << 1) for s in standin.sessions())


async def test_reconnect_op_resumes(standin: StandIn, world: SampleWorld, connect: Connect) -> None:
    bot = await connect()
    await standin.drop_connection(reconnect_op=True)
    uid = await standin.join(world.guild_id, username="during_reconnect")
    await bot.wait_seen("resumed", timeout=10)
    (member,) = (await bot.wait_seen("member_join"))[0]
    assert member.id == uid


async def test_closed_client_leaves_a_resumable_session(standin: StandIn, connect: Connect) -> None:
    bot = await connect()
    assert len(standin.connected_sessions()) == 1
    await bot.close()  # discord.py's socket ends with 4000 here, so Discord keeps the session
    for _ in range(100):
        if not standin.connected_sessions():
            break
        await asyncio.sleep(0.01)
    assert standin.connected_sessions() == []
    assert len(standin.sessions()) == 1


async def test_rejoin_sets_did_rejoin_flag(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    uid = world.member_ids[0]
    await standin.leave(world.guild_id, uid)
    await bot.wait_seen("member_remove")
    await standin.join(world.guild_id, uid)
    (member,) = (await bot.wait_seen("member_join"))[0]
    assert member.flags.did_rejoin


async def test_zombie_connection_is_detected_and_resumed(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    standin.gateway.heartbeat_interval_ms = 100
    standin.gateway.ack_heartbeats = False  # and no events: the client hears nothing
    bot = await connect(heartbeat_timeout=0.5)  # discord.py's limit for hearing nothing
    await bot.wait_seen("resumed", timeout=10)
    standin.gateway.ack_heartbeats = True
    standin.gateway.heartbeat_interval_ms = 41250
    assert len(bot.seen["ready"]) == 1
