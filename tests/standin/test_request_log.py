"""The request log as a poller in another process reads it: an index per entry (`since=N`),
the error code of each error answer and whether a message nonce was answered by dedupe."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient

MESSAGE_POST = "POST /channels/{channel_id}/messages"
MEMBER_GET = "GET /guilds/{guild_id}/members/{user_id}"


async def _requests(http: aiohttp.ClientSession, standin: StandIn, **query: Any) -> Any:
    async with http.get(f"{standin.base_url}/_standin/requests", params=query) as resp:
        data = await resp.json()
        assert resp.status == 200, data
        return data["result"]


async def test_error_answers_carry_their_discord_code(
    standin: StandIn, world: SampleWorld, bot: BareClient, http: aiohttp.ClientSession
) -> None:
    uid = await standin.join(world.guild_id, username="private", dms_closed=True)
    user = await bot.fetch_user(uid)
    with pytest.raises(discord.Forbidden):
        await user.send("hello")
    await standin.leave(world.guild_id, uid)
    with pytest.raises(discord.NotFound):
        await bot.http.get_member(world.guild_id, uid)
    (dm,) = await _requests(http, standin, route=MESSAGE_POST)
    assert (dm["status"], dm["code"]) == (403, 50007)
    (member,) = await _requests(http, standin, route=MEMBER_GET)
    assert (member["status"], member["code"]) == (404, 10007)
    opened = standin.recorder.requests("POST", "/users/@me/channels")
    assert [(r.status, r.code) for r in opened] == [(200, None)]  # success: no code


async def test_a_nonce_answered_by_dedupe_is_marked(
    standin: StandIn, world: SampleWorld, bot: BareClient, http: aiohttp.ClientSession
) -> None:
    channel = bot.get_channel(world.general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("page", nonce="outbox-7")
    await channel.send("page", nonce="outbox-7")
    await channel.send("page", nonce="outbox-8")
    posts = await _requests(http, standin, route=MESSAGE_POST)
    assert [(p["json"]["nonce"], p["deduped"]) for p in posts] == [
        ("outbox-7", False),
        ("outbox-7", True),
        ("outbox-8", False),
    ]


async def test_since_returns_only_later_entries_and_indexes_survive_a_clear(
    standin: StandIn, world: SampleWorld, bot: BareClient, http: aiohttp.ClientSession
) -> None:
    everything = await _requests(http, standin)
    indexes = [r["index"] for r in everything]
    assert indexes == list(range(1, len(indexes) + 1))
    last = indexes[-1]
    assert await _requests(http, standin, since=last) == []
    await bot.http.get_roles(world.guild_id)
    await bot.http.get_member(world.guild_id, world.member_ids[0])
    later = await _requests(http, standin, since=last)
    assert [(r["index"], r["route"]) for r in later] == [
        (last + 1, "GET /guilds/{guild_id}/roles"),
        (last + 2, MEMBER_GET),
    ]
    (member,) = await _requests(http, standin, since=last, route=MEMBER_GET)
    assert member["index"] == last + 2
    standin.recorder.clear()
    await bot.http.get_roles(world.guild_id)
    (after_clear,) = await _requests(http, standin, since=last)
    assert after_clear["index"] == last + 3  # a poller's `since` stays valid
    async with http.get(f"{standin.base_url}/_standin/requests?since=x") as resp:
        assert resp.status == 400
