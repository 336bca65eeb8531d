"""Discord's size limits, enforced by the stand-in where discord.py does not check them."""

from __future__ import annotations

import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient


async def _channel(bot: BareClient, world: SampleWorld) -> discord.TextChannel:
    channel = bot.get_channel(world.digest_channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_custom_id_over_100_characters_is_refused(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Approve", custom_id="x" * 101))
    with pytest.raises(discord.HTTPException) as exc:
        await (await _channel(bot, world)).send("review", view=view)
    assert exc.value.status == 400 and exc.value.code == 50035
    assert "custom_id" in str(exc.value)
    assert standin.messages(world.digest_channel_id) == []


async def test_embed_limits(standin: StandIn, world: SampleWorld, bot: BareClient) -> None:
    channel = await _channel(bot, world)
    too_long = discord.Embed(description="d" * 4097)
    with pytest.raises(discord.HTTPException) as exc:
        await channel.send(embed=too_long)
    assert exc.value.code == 50035
    total = [discord.Embed(description="d" * 4000), discord.Embed(description="d" * 2001)]
    with pytest.raises(discord.HTTPException):
        await channel.send(embeds=total)
    fine = [discord.Embed(title="Digest", description="d" * 4000)]
    await channel.send(embeds=fine)
    with pytest.raises(discord.HTTPException):
        await channel.send("c" * 2001)


async def test_command_definitions_are_validated(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    bad = [{"name": "Pending", "description": "x", "type": 1}]
    with pytest.raises(discord.HTTPException) as exc:
        await bot.http.bulk_upsert_guild_commands(standin.app_id, world.guild_id, bad)
    assert exc.value.code == 50035
    dup = [{"name": "a", "description": "x"}, {"name": "a", "description": "y"}]
    with pytest.raises(discord.HTTPException):
        await bot.http.bulk_upsert_guild_commands(standin.app_id, world.guild_id, dup)
    order = [
        {
            "name": "c",
            "description": "x",
            "options": [
                {"name": "opt", "description": "o", "type": 3},
                {"name": "req", "description": "r", "type": 3, "required": True},
            ],
        }
    ]
    with pytest.raises(discord.HTTPException):
        await bot.http.bulk_upsert_guild_commands(standin.app_id, world.guild_id, order)
    assert standin.world.guilds[world.guild_id].commands == {}


async def test_dm_to_user_without_mutual_guild_is_refused(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    uid = world.member_ids[2]
    user = await bot.fetch_user(uid)
    channel = await user.create_dm()
    await standin.leave(world.guild_id, uid)
    with pytest.raises(discord.Forbidden) as exc:
        await channel.send("still there?")
    assert exc.value.code == 50007


async def test_nonce_longer_than_25_is_refused(world: SampleWorld, bot: BareClient) -> None:
    channel = await _channel(bot, world)
    with pytest.raises(discord.HTTPException) as exc:
        await channel.send("x", nonce="n" * 26)
    assert exc.value.code == 50035
