"""discord.py objects to plain data: real discord.py objects, parsed from Discord payloads."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.client.convert import message_counters, role_names, user_info
from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient

_STATE_CLIENT = discord.Client(intents=discord.Intents.none())
_GUILD = discord.Guild(
    data={"id": "10", "name": "g", "roles": []},  # type: ignore[typeddict-item]
    state=_STATE_CLIENT._connection,
)
_CHANNEL = discord.TextChannel(
    state=_STATE_CLIENT._connection,
    guild=_GUILD,
    data={"id": "20", "name": "general", "type": 0, "position": 0, "guild_id": "10"},  # type: ignore[typeddict-item]
)


def message(content: str, attachments: int = 0) -> discord.Message:
    """A discord.Message parsed from a MESSAGE_CREATE payload, as the client builds it."""
    data: dict[str, Any] = {
        "id": "30",
        "channel_id": "20",
        "author": {"id": "5", "username": "ada", "discriminator": "0", "avatar": None},
        "content": content,
        "attachments": [
            {"id": str(40 + i), "filename": f"f{i}.png", "size": 1, "url": "u", "proxy_url": "p"}
            for i in range(attachments)
        ],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "type": 0,
    }
    return discord.Message(state=_STATE_CLIENT._connection, channel=_CHANNEL, data=data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "links", "invites", "pings"),
    [
        ("hello there", 0, 0, 0),
        ("see https://example.com and http://x.y/z", 2, 0, 0),
        ("HTTPS://EXAMPLE.COM shouting", 1, 0, 0),
        ("join discord.gg/abc now", 0, 1, 0),
        ("join https://discord.gg/abc now", 1, 1, 0),
        ("https://discord.com/invite/xyz and discordapp.com/invite/q", 1, 2, 0),
        ("@everyone look", 0, 0, 1),
        ("@here and @everyone", 0, 0, 2),
        ("@heretic is not a ping", 0, 0, 0),
    ],
)
def test_message_counters(content: str, links: int, invites: int, pings: int) -> None:
    counters = message_counters(message(content))
    assert counters == {
        "links": links,
        "invites": invites,
        "attachments": 0,
        "everyone_pings": pings,
    }


def test_attachments_are_counted_and_empty_content_is_fine() -> None:
    assert message_counters(message("", attachments=3)) == {
        "links": 0,
        "invites": 0,
        "attachments": 3,
        "everyone_pings": 0,
    }


async def test_user_info_from_a_member_the_gateway_delivered(
    standin: StandIn, world: SampleWorld, client: BareClient
) -> None:
    uid = await standin.join(world.guild_id, username="spammy", global_name="Spam", spammer=True)
    await client.wait_seen("member_join")
    guild = client.get_guild(world.guild_id)
    assert guild is not None
    member = guild.get_member(uid)
    assert member is not None

    info = user_info(member)
    assert info.user_id == uid
    assert (info.username, info.global_name, info.nick) == ("spammy", "Spam", None)
    assert info.spammer and not info.bot
    assert info.default_avatar  # joined without an avatar
    assert info.created_at is not None and info.created_at.tzinfo is not None

    ada = guild.get_member(world.member_ids[0])
    assert ada is not None
    ada_info = user_info(ada)
    assert not ada_info.default_avatar and not ada_info.spammer
    assert ada_info.global_name == "Ada"


async def test_role_names_give_names_and_ids_but_not_everyone(
    standin: StandIn, world: SampleWorld, client: BareClient
) -> None:
    guild = client.get_guild(world.guild_id)
    assert guild is not None
    uid = world.member_ids[1]
    await standin.set_member_roles(world.guild_id, uid, [world.follow_back_role_id])
    await client.wait_seen("member_update")
    member = guild.get_member(uid)
    assert member is not None
    names = role_names(member)
    assert names == {"Mutuals", str(world.follow_back_role_id)}
    assert "@everyone" not in names and str(world.guild_id) not in names
