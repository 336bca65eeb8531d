"""GuildDirectory answers from discord.py's cache of the stand-in's guild."""

from __future__ import annotations

from bot.client.directory import GuildDirectory
from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient


async def test_role_id_by_name_or_id(world: SampleWorld, client: BareClient) -> None:
    directory = GuildDirectory(client)
    role = world.follow_back_role_id
    assert directory.role_id(world.guild_id, "Mutuals") == role
    assert directory.role_id(world.guild_id, str(role)) == role
    assert directory.role_id(world.guild_id, "No Such Role") is None
    assert directory.role_id(world.guild_id, "123") is None  # digits, but no such role
    assert directory.role_id(424242, "Mutuals") is None  # a guild the bot is not in


async def test_a_role_named_with_digits_is_found_by_name(
    standin: StandIn, world: SampleWorld, client: BareClient
) -> None:
    role = standin.add_role(world.guild_id, "2024")
    await client.wait_seen("guild_role_create")
    assert GuildDirectory(client).role_id(world.guild_id, "2024") == role


async def test_member_roles(standin: StandIn, world: SampleWorld, client: BareClient) -> None:
    directory = GuildDirectory(client)
    uid = world.member_ids[0]
    assert directory.member_roles(world.guild_id, uid) == frozenset()
    await standin.set_member_roles(world.guild_id, uid, [world.follow_back_role_id])
    await client.wait_seen("member_update")
    assert "Mutuals" in directory.member_roles(world.guild_id, uid)
    assert directory.member_roles(world.guild_id, 999) == frozenset()  # not a member
    assert directory.member_roles(424242, uid) == frozenset()  # unknown guild
