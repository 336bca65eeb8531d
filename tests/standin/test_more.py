"""More surface: reactions, edits, member lists, app info, global commands, sharding."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands

from bot.standin import SampleWorld, StandIn
from tests.standin.conftest import Connect
from tests.standin.helpers import TOKEN, BareClient, all_intents


async def test_reactions_edits_and_deletes(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    said = await standin.say(world.general_channel_id, world.member_ids[0], "nice post")
    channel = bot.get_channel(world.general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.fetch_message(int(said["id"]))
    await message.add_reaction("👍")
    (payload,) = (await bot.wait_seen("raw_reaction_add"))[0]
    assert str(payload.emoji) == "👍" and payload.user_id == standin.bot_user_id
    (stored,) = standin.messages(world.general_channel_id)
    assert stored["reactions"][0]["me"] is True
    await standin.react(int(said["id"]), world.owner_id, "👍")
    await bot.wait_seen("raw_reaction_add", 2)
    mine = await channel.send("draft")
    edited = await mine.edit(content="final")
    assert edited.content == "final" and edited.edited_at is not None
    await mine.delete()
    assert [m["content"] for m in standin.messages(world.general_channel_id)] == ["nice post"]
    await standin.edit(int(said["id"]), "nicer post")
    (raw,) = (await bot.wait_seen("raw_message_edit", 2))[1]
    assert raw.data["content"] == "nicer post"


async def test_member_list_and_application_info(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    guild = bot.get_guild(world.guild_id)
    assert guild is not None
    members = [m async for m in guild.fetch_members(limit=None)]
    assert {m.id for m in members} == set(standin.world.guilds[world.guild_id].members)
    one = await guild.fetch_member(world.member_ids[2])
    assert one.name == "linus_t" and one.joined_at is not None
    info = await bot.application_info()
    assert info.id == standin.app_id and info.owner.id == standin.app_owner_id
    assert info.flags.gateway_guild_members_limited
    assert info.flags.gateway_message_content_limited


async def test_member_list_needs_the_intent_enabled(world: SampleWorld) -> None:
    from bot.client.target import point_discord_at, reset_discord_target

    standin = StandIn(token=TOKEN, privileged_intents=set())
    sample = standin.seed_sample()
    await standin.start()
    point_discord_at(standin.base_url)
    client = BareClient(discord.Intents.default())
    task = asyncio.create_task(client.start(TOKEN))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        with pytest.raises(discord.Forbidden) as exc:
            await client.http.get_members(sample.guild_id, 10, None)
        assert exc.value.code == 50001
    finally:
        await client.close()
        await task
        await standin.stop()
        reset_discord_target()


async def test_global_command_in_dm_and_edit_original(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    async def setup(client: BareClient) -> None:
        @client.tree.command(name="where", description="Where do I stand?")
        async def where(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.edit_original_response(content="You are pending review.")

        @client.tree.command(name="policy", description="Policy tools")
        @app_commands.describe(member="Who")
        async def policy(interaction: discord.Interaction, member: discord.User) -> None:
            await interaction.response.send_message(f"explaining {member.name}")

        await client.tree.sync()

    await connect(setup=setup)
    uid = world.member_ids[0]
    dm = standin.dm_channel(uid)
    ix = await standin.slash(None, dm.id, uid, "where")
    assert (await ix.wait_response())["type"] == 5
    for _ in range(100):
        if ix.edits:
            break
        await asyncio.sleep(0.02)
    assert ix.edits[0]["content"] == "You are pending review."
    ix2 = await standin.slash(
        world.guild_id, world.general_channel_id, world.owner_id, "policy", {"member": uid}
    )
    assert (await ix2.wait_response())["data"]["content"] == "explaining ada_l"


async def test_autosharded_client_gets_shard_in_ready(standin: StandIn, world: SampleWorld) -> None:
    client = discord.AutoShardedClient(
        intents=all_intents(),
        guild_ready_timeout=0.05,
        allowed_mentions=discord.AllowedMentions.none(),
    )

    async def no_sleep(shard_id: int | None, *, initial: bool = False) -> None:
        return None

    client.before_identify_hook = no_sleep  # type: ignore[method-assign]
    task = asyncio.create_task(client.start(TOKEN))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        assert client.shard_count == 1
        assert client.get_guild(world.guild_id) is not None
        assert standin.recorder.requests("GET", "/gateway/bot")
    finally:
        await client.close()
        await task


async def test_file_upload_is_multipart_with_payload_json(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    import io

    channel = bot.get_channel(world.digest_channel_id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("digest", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "digest.csv"))
    assert [a.filename for a in sent.attachments] == ["digest.csv"]
    (post,) = standin.recorder.requests(route="POST /channels/{channel_id}/messages")
    assert post.json["content"] == "digest"
    assert post.json["_files"] == [{"name": "files[0]", "filename": "digest.csv", "size": 8}]
