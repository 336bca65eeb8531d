"""Rate limits on by default, as topics/rate-limits.mdx describes them, and discord.py pacing
itself by their headers; 40003 for opening DMs too fast (topics/opcodes-and-status-codes.mdx)."""

from __future__ import annotations

import time

import aiohttp
import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import TOKEN, BareClient

ROLE_PUT = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
ROLE_DELETE = "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
CREATE_DM = "POST /users/@me/channels"
FAST = 0.05  # Discord's windows times this: 10 role changes per 0.5 s


def test_the_default_buckets_are_discords() -> None:
    """topics/rate-limits.mdx: "per-route limits will be shared across a set of similar
    endpoints, indicated in the X-RateLimit-Bucket header"; the role PUT and DELETE share one,
    10 per 10 s per guild as observed on Discord; creating DMs has one for the whole bot."""
    standin = StandIn()
    limits = standin.rate_limits
    assert limits.rule(ROLE_PUT) == limits.rule(ROLE_DELETE) == (10, 10.0, "member-roles")
    assert limits.rule(CREATE_DM) == (10, 10.0, "create-dm")
    assert limits.rule("GET /users/@me") is None
    assert StandIn(rate_limit_scale=0).rate_limits.rule(ROLE_PUT) is None
    assert StandIn(rate_limit_scale=FAST).rate_limits.rule(ROLE_PUT) == (10, 0.5, "member-roles")


async def test_role_changes_are_paced_by_discord_py_per_guild(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """topics/rate-limits.mdx: limits "account for top-level resources within the path" such as
    guild_id, and an app "should parse response headers to prevent hitting the limit": 12 role
    changes in one guild wait for the window, none is refused; another guild is not held up."""
    standin.rate_limits.clear()
    standin.rate_limits.use_default_buckets(FAST)
    users = [await standin.join(world.guild_id, username=f"fan{i}") for i in range(6)]
    started = time.monotonic()
    for uid in users:
        await bot.http.add_role(world.guild_id, uid, world.follow_back_role_id)
        await bot.http.remove_role(world.guild_id, uid, world.follow_back_role_id)
    elapsed = time.monotonic() - started
    changes = standin.recorder.requests(route=ROLE_PUT) + standin.recorder.requests(
        route=ROLE_DELETE
    )
    assert len(changes) == 12 and all(r.status == 204 for r in changes)  # paced, never a 429
    assert elapsed >= 0.4  # the 11th change waited for the 0.5 s window to reset

    other = standin.add_guild("Elsewhere")
    role = standin.add_role(other, "Fans")
    standin.add_member(other, users[0])
    started = time.monotonic()
    await bot.http.add_role(other, users[0], role)
    assert time.monotonic() - started < 0.3


async def test_creating_dms_is_one_bucket_for_the_whole_bot(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """topics/rate-limits.mdx: a route without a top-level resource is limited per bot; 12 DM
    channels opened back to back are paced by discord.py, none refused."""
    standin.rate_limits.clear()
    standin.rate_limits.use_default_buckets(FAST)
    users = [await standin.join(world.guild_id, username=f"pen{i}") for i in range(12)]
    started = time.monotonic()
    for uid in users:
        await bot.http.start_private_message(uid)
    opened = standin.recorder.requests(route=CREATE_DM)
    assert [r.status for r in opened] == [200] * 12
    assert time.monotonic() - started >= 0.4


async def test_a_429_answer_has_discords_body_and_headers(
    standin: StandIn, world: SampleWorld
) -> None:
    """topics/rate-limits.mdx "Exceeding A Rate Limit": 429 with `retry_after` and `global`, the
    normal X-RateLimit-* headers and X-RateLimit-Scope; discord.py only retries a 429 that
    carries `Via` (else it assumes a Cloudflare ban)."""
    uid = world.member_ids[0]
    url = f"{standin.base_url}/api/v10/guilds/{world.guild_id}/members/{uid}/roles/{{}}"
    headers = {"Authorization": f"Bot {TOKEN}", "X-Audit-Log-Reason": "test"}
    answers = []
    async with aiohttp.ClientSession() as http:
        for i in range(11):
            method = http.put if i % 2 == 0 else http.delete
            async with method(url.format(world.follow_back_role_id), headers=headers) as resp:
                answers.append((resp.status, dict(resp.headers), await resp.read()))
    assert [a[0] for a in answers] == [204] * 10 + [429]
    first, last_ok = answers[0][1], answers[9][1]
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("10", "9")
    assert last_ok["X-RateLimit-Remaining"] == "0"
    assert first["X-RateLimit-Bucket"] == last_ok["X-RateLimit-Bucket"]  # PUT and DELETE share
    _, limited, body = answers[10]
    assert limited["Via"] and limited["X-RateLimit-Scope"] == "user"
    assert limited["X-RateLimit-Remaining"] == "0" and 9 < float(limited["Retry-After"]) <= 10
    assert b'"global":false' in body and b'"retry_after":' in body
    assert 9 < float(limited["X-RateLimit-Reset-After"]) <= 10


async def test_opening_dms_too_fast_is_refused_with_40003(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    """topics/opcodes-and-status-codes.mdx 40003 "You are opening direct messages too fast";
    resources/user.mdx "Create DM": "If you open a significant amount of DMs too quickly, your
    bot may be rate limited or blocked from opening new ones" (an existing one is returned)."""
    standin.dm_opens.set(2, window=60.0)
    first, second, third = world.member_ids
    await bot.http.start_private_message(first)
    await bot.http.start_private_message(second)
    await bot.http.start_private_message(first)  # already open: returned, not counted
    with pytest.raises(discord.Forbidden) as exc:
        await bot.http.start_private_message(third)
    assert exc.value.code == 40003
    assert exc.value.text == "You are opening direct messages too fast"
    standin.dm_opens.set(None)
    await bot.http.start_private_message(third)
