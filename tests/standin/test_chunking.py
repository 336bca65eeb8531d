"""Member lists at the wire: GUILD_CREATE, op 8 chunks, RATE_LIMITED and chunk faults.

Each test names the passage of Discord's docs (github:discord/discord-api-docs) it checks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bot.standin import SampleWorld, StandIn
from bot.standin.chunking import ALL_MEMBERS_WINDOW
from tests.standin.wire import Wire, open_wire

GUILDS, MEMBERS, PRESENCES = 1, 1 << 1, 1 << 8


async def _ready(
    http: aiohttp.ClientSession, standin: StandIn, intents: int = GUILDS | MEMBERS
) -> tuple[Wire, dict[str, Any]]:
    wire = await open_wire(http, standin, None)
    await wire.send(2, {"token": "standin-test-token", "intents": intents, "properties": {}})
    assert (await wire.recv())["t"] == "READY"
    create = await wire.recv()
    assert create["t"] == "GUILD_CREATE"
    return wire, create["d"]


async def _all_members(wire: Wire, guild_id: int, nonce: str | None = "n") -> None:
    d: dict[str, Any] = {"guild_id": str(guild_id), "query": "", "limit": 0}
    if nonce is not None:
        d["nonce"] = nonce
    await wire.send(8, d)


async def _nothing_more(wire: Wire) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await wire.ws.receive(timeout=0.2)


async def test_guild_create_lists_only_the_bot_without_presences(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """events/gateway-events.mdx "Guild Create": "If your bot does not have the GUILD_PRESENCES
    Gateway Intent ... members and presences returned in this event will only contain your bot
    and users in voice channels"; member_count is the "Total number of members in this guild"."""
    wire, guild = await _ready(http, standin)
    assert [m["user"]["id"] for m in guild["members"]] == [str(standin.bot_user_id)]
    assert guild["presences"] == []
    assert guild["member_count"] == len(world.member_ids) + 2  # + owner and bot
    await wire.ws.close()


async def test_guild_create_lists_everyone_with_presences_in_a_small_guild(
    http: aiohttp.ClientSession,
) -> None:
    """events/gateway-events.mdx "Request Guild Members": with GUILD_PRESENCES, "if it has under
    large_threshold members, it will send all members"; over it only members who "have a role,
    have a nickname" (or are online / in voice)."""
    standin = StandIn(token="standin-test-token", privileged_intents={"members", "presences"})
    await standin.start()
    try:
        world = standin.seed_sample()
        wire, guild = await _ready(http, standin, GUILDS | MEMBERS | PRESENCES)
        assert len(guild["members"]) == guild["member_count"] == len(world.member_ids) + 2
        assert guild["large"] is False
        await wire.ws.close()
        await standin.join_many(world.guild_id, 60)  # over the default large_threshold of 50
        wire, guild = await _ready(http, standin, GUILDS | MEMBERS | PRESENCES)
        listed = {m["user"]["id"] for m in guild["members"]}
        assert guild["large"] is True and guild["member_count"] == len(world.member_ids) + 62
        assert listed == {str(standin.bot_user_id)}  # only the bot has a role or a nickname
        await wire.ws.close()
    finally:
        await standin.stop()


async def test_all_members_come_in_chunks_of_at_most_1000_with_the_nonce(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """events/gateway-events.mdx "Request Guild Members": "Guild Members Chunk events in response
    with up to 1000 members per chunk"; "Guild Members Chunk": chunk_index, chunk_count, nonce."""
    await standin.join_many(world.guild_id, 2500)
    wire, guild = await _ready(http, standin)
    await _all_members(wire, world.guild_id, nonce="start-1")
    chunks = [(await wire.recv())["d"] for _ in range(3)]
    assert [c["chunk_index"] for c in chunks] == [0, 1, 2]
    assert {c["chunk_count"] for c in chunks} == {3} and {c["nonce"] for c in chunks} == {"start-1"}
    assert [len(c["members"]) for c in chunks] == [1000, 1000, guild["member_count"] - 2000]
    ids = {m["user"]["id"] for c in chunks for m in c["members"]}
    assert len(ids) == guild["member_count"]
    await _nothing_more(wire)
    await wire.ws.close()


async def test_a_second_request_for_all_members_within_30_s_is_rate_limited(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """events/gateway-events.mdx "Rate Limited" (opcode, retry_after, meta.guild_id, meta.nonce)
    and the change-log's "Introducing Rate Limit When Requesting All Guild Members": "1 request
    per guild per bot every 30 seconds", for `limit` 0 with an empty `query` only."""
    standin.member_requests.window = ALL_MEMBERS_WINDOW
    other = standin.add_guild("Other")
    wire, _ = await _ready(http, standin)
    await wire.recv()  # the second guild's GUILD_CREATE
    await _all_members(wire, world.guild_id, nonce="a")
    assert (await wire.recv())["t"] == "GUILD_MEMBERS_CHUNK"
    await _all_members(wire, world.guild_id, nonce="b")
    limited = await wire.recv()
    assert limited["op"] == 0 and limited["t"] == "RATE_LIMITED"
    assert limited["d"]["opcode"] == 8
    assert limited["d"]["meta"] == {"guild_id": str(world.guild_id), "nonce": "b"}
    assert 29 < limited["d"]["retry_after"] <= 30
    await _all_members(wire, other, nonce="c")  # another guild: not limited
    assert (await wire.recv())["d"]["nonce"] == "c"
    await wire.send(8, {"guild_id": str(world.guild_id), "query": "ada", "limit": 5})
    assert (await wire.recv())["t"] == "GUILD_MEMBERS_CHUNK"  # a prefix query: not limited
    assert [r.answer for r in standin.member_requests.received] == [
        "chunks",
        "rate_limited",
        "chunks",
        "chunks",
    ]
    await wire.ws.close()


async def test_the_member_request_window_is_set_over_http(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    control = f"{standin.base_url}/_standin"
    async with http.post(f"{control}/member_request_window", json={"seconds": 0.4}) as resp:
        assert (await resp.json())["result"] == 0.0  # the in-process default before
    async with http.get(control) as resp:
        assert (await resp.json())["member_request_window"] == 0.4
    wire, _ = await _ready(http, standin)
    await _all_members(wire, world.guild_id, nonce="a")
    assert (await wire.recv())["t"] == "GUILD_MEMBERS_CHUNK"
    await _all_members(wire, world.guild_id, nonce="b")
    limited = await wire.recv()
    assert limited["t"] == "RATE_LIMITED" and 0 < limited["d"]["retry_after"] <= 0.4
    await asyncio.sleep(0.45)
    await _all_members(wire, world.guild_id, nonce="c")
    assert (await wire.recv())["d"]["nonce"] == "c"  # the window has passed
    async with http.post(f"{control}/member_request_window", json={"seconds": -1}) as resp:
        assert resp.status == 400
    await wire.ws.close()


async def test_queries_user_ids_and_nonces_follow_the_documented_limits(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """events/gateway-events.mdx "Request Guild Members": "Requesting a prefix (query parameter)
    will return a maximum of 100 members"; user_ids "limited to returning 100 members"; invalid
    ids come back in `not_found`; "Nonce can only be up to 32 bytes. If you send an invalid nonce
    it will be ignored and the reply member_chunk(s) will not have a nonce set"."""
    await standin.join_many(world.guild_id, 150, prefix="fan")
    wire, _ = await _ready(http, standin)
    await wire.send(8, {"guild_id": str(world.guild_id), "query": "FAN", "limit": 0})
    assert len((await wire.recv())["d"]["members"]) == 100
    await wire.send(8, {"guild_id": str(world.guild_id), "query": "fan", "limit": 7})
    assert len((await wire.recv())["d"]["members"]) == 7
    await wire.send(
        8, {"guild_id": str(world.guild_id), "user_ids": [str(world.owner_id), "42"], "limit": 0}
    )
    found = (await wire.recv())["d"]
    assert [m["user"]["id"] for m in found["members"]] == [str(world.owner_id)]
    assert found["not_found"] == ["42"]
    await _all_members(wire, world.guild_id, nonce="x" * 33)
    assert "nonce" not in (await wire.recv())["d"]
    await wire.ws.close()


async def test_chunk_faults_drop_slow_and_withhold_until_released(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    """The driver's faults on events/gateway-events.mdx "Guild Members Chunk": a dropped chunk
    leaves `chunk_index + 1 == chunk_count` unseen or a hole; withheld chunks arrive later."""
    await standin.join_many(world.guild_id, 2100)
    wire, _ = await _ready(http, standin)
    requests = standin.member_requests
    requests.drop(1)
    await _all_members(wire, world.guild_id, nonce="d")
    got = [(await wire.recv())["d"]["chunk_index"] for _ in range(2)]
    assert got == [0, 2]
    requests.clear()
    requests.withhold()
    await _all_members(wire, world.guild_id, nonce="w")
    await _nothing_more(wire)
    assert requests.release() == 3
    assert [(await wire.recv())["d"]["nonce"] for _ in range(3)] == ["w"] * 3
    requests.slow(0.3)
    await _all_members(wire, world.guild_id, nonce="s")
    await _nothing_more(wire)  # 0.2 s: the first chunk is still on its way
    assert (await wire.recv())["d"]["chunk_index"] == 0
    await wire.ws.close()
