"""Fault injection and rate limits, as discord.py's HTTP client experiences them."""

from __future__ import annotations

import time

import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import BareClient

ROLE_PUT = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
MESSAGE_POST = "POST /channels/{channel_id}/messages"


async def test_429_is_waited_out_and_retried(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    standin.faults.fail(ROLE_PUT, 429, retry_after=0.2, count=2)
    started = time.monotonic()
    await bot.http.add_role(world.guild_id, world.member_ids[0], world.follow_back_role_id)
    assert time.monotonic() - started >= 0.4
    statuses = [r.status for r in standin.recorder.requests(route=ROLE_PUT)]
    assert statuses == [429, 429, 204]
    assert world.follow_back_role_id in standin.member_roles(world.guild_id, world.member_ids[0])


async def test_global_429_pauses_and_retries(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    standin.faults.fail("GET /users/@me", 429, retry_after=0.1, is_global=True)
    await bot.http.static_login(bot.http.token or "")
    assert [r.status for r in standin.recorder.requests(route="GET /users/@me")][-2:] == [429, 200]


async def test_403_50007_raises_forbidden_with_code(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    channel = bot.get_channel(world.general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    standin.faults.fail(MESSAGE_POST, 403, code=50007, message="Cannot send messages to this user")
    with pytest.raises(discord.Forbidden) as exc:
        await channel.send("hi")
    assert exc.value.code == 50007 and exc.value.text == "Cannot send messages to this user"
    assert len(standin.recorder.requests(route=MESSAGE_POST)) == 1  # never retried
    await channel.send("works again")


async def test_5xx_retried_then_succeeds(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    standin.faults.fail(ROLE_PUT, 502)
    await bot.http.add_role(world.guild_id, world.member_ids[0], world.follow_back_role_id)
    assert [r.status for r in standin.recorder.requests(route=ROLE_PUT)] == [502, 204]


async def test_delay(standin: StandIn, world: SampleWorld, bot: BareClient) -> None:
    standin.faults.delay("GET /guilds/{guild_id}/roles", 0.2)
    started = time.monotonic()
    roles = await bot.http.get_roles(world.guild_id)
    assert time.monotonic() - started >= 0.2
    assert {r["name"] for r in roles} >= {"@everyone", "Mutuals"}


async def test_rate_limit_mode_paces_discord_py(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    standin.rate_limit(ROLE_PUT, limit=5, per=0.3)
    started = time.monotonic()
    for uid in world.member_ids:
        for role in (world.follow_back_role_id,):
            await bot.http.add_role(world.guild_id, uid, role)
    for uid in world.member_ids:
        await bot.http.remove_role(world.guild_id, uid, world.follow_back_role_id)
    for uid in world.member_ids:
        await bot.http.add_role(world.guild_id, uid, world.follow_back_role_id)
    elapsed = time.monotonic() - started
    puts = standin.recorder.requests(route=ROLE_PUT)
    assert len(puts) == 6  # no 429s: discord.py read the headers and waited
    assert all(r.status == 204 for r in puts)
    assert elapsed >= 0.25  # the 6th PUT had to wait for the window to reset


async def test_rate_limit_429_when_exceeded(standin: StandIn, world: SampleWorld) -> None:
    import aiohttp

    standin.rate_limit(None, limit=2, per=5.0)
    url = f"{standin.base_url}/api/v10/users/@me"
    headers = {"Authorization": "Bot standin-test-token"}
    async with aiohttp.ClientSession() as http:
        answers = []
        for _ in range(3):
            async with http.get(url, headers=headers) as resp:
                answers.append((resp.status, dict(resp.headers), await resp.json()))
    assert [a[0] for a in answers] == [200, 200, 429]
    ok_headers = answers[1][1]
    assert ok_headers["X-RateLimit-Remaining"] == "0" and ok_headers["X-RateLimit-Limit"] == "2"
    assert "X-RateLimit-Bucket" in ok_headers and "X-RateLimit-Reset-After" in ok_headers
    _, headers_429, body = answers[2]
    assert headers_429["Via"] == "1.1 google" and headers_429["X-RateLimit-Scope"] == "user"
    assert "Retry-After" in headers_429
    assert body["global"] is False and 0 < body["retry_after"] <= 5.0


async def test_a_fault_for_one_member_only_by_its_concrete_path(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """A read-back (GET member) answers 503 twice for one member; the others are unaffected."""
    target, other = world.member_ids[0], world.member_ids[1]
    standin.faults.fail(f"GET /guilds/{world.guild_id}/members/{target}", 503, count=2)
    await bot.http.get_member(world.guild_id, other)
    for _ in range(2):
        with pytest.raises(discord.DiscordServerError):  # discord.py does not retry a 503
            await bot.http.get_member(world.guild_id, target)
    member = await bot.http.get_member(world.guild_id, target)
    assert member["user"]["id"] == str(target)
    recorded = standin.recorder.requests(route="GET /guilds/{guild_id}/members/{user_id}")
    assert [(r.path.rsplit("/", 1)[1], r.status) for r in recorded] == [
        (str(other), 200),
        (str(target), 503),
        (str(target), 503),
        (str(target), 200),
    ]
