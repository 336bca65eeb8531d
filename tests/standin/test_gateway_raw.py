"""The gateway at the wire level, without discord.py: close codes, compression, chunking."""

from __future__ import annotations

import aiohttp
import pytest

from bot.client.target import point_discord_at, reset_discord_target
from bot.standin import SampleWorld, StandIn
from bot.standin.connection import ZSTD_AVAILABLE
from tests.standin.wire import open_wire


async def test_zlib_stream_frames_and_ready(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    wire = await open_wire(http, standin, "zlib-stream")
    await wire.identify()
    ready = await wire.recv()
    assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
    assert ready["d"]["user"]["id"] == str(standin.bot_user_id)
    assert ready["d"]["resume_gateway_url"] == standin.ws_url
    create = await wire.recv()
    assert create["t"] == "GUILD_CREATE" and create["s"] == 2
    # events/gateway-events.mdx "Guild Create": without GUILD_PRESENCES only the bot is listed
    members = create["d"]["members"]
    assert [m["user"]["id"] for m in members] == [str(standin.bot_user_id)]
    assert create["d"]["member_count"] == len(world.member_ids) + 2  # + owner and bot
    await wire.send(1, 2)
    assert (await wire.recv())["op"] == 11
    await wire.ws.close()


async def test_zstd_falls_back_to_plain_text_without_zstandard(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    if ZSTD_AVAILABLE:
        pytest.skip("zstandard is installed on the server side")
    wire = await open_wire(http, standin, "zstd-stream")  # recv() asserts TEXT frames
    await wire.identify()
    assert (await wire.recv())["t"] == "READY"
    await wire.ws.close()


@pytest.mark.parametrize(
    ("token", "intents", "code"),
    [("wrong", 1, 4004), ("standin-test-token", 1 | (1 << 8), 4014)],
)
async def test_close_codes(
    standin: StandIn, http: aiohttp.ClientSession, token: str, intents: int, code: int
) -> None:
    wire = await open_wire(http, standin, None)
    await wire.identify(token, intents)
    msg = await wire.ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == code


async def test_request_guild_members_chunks(
    standin: StandIn, world: SampleWorld, http: aiohttp.ClientSession
) -> None:
    await standin.join_many(world.guild_id, 1500)
    wire = await open_wire(http, standin, None)
    await wire.identify()
    await wire.recv()
    create = await wire.recv()
    assert create["d"]["large"] is True and len(create["d"]["members"]) == 1  # only the bot
    await wire.send(8, {"guild_id": str(world.guild_id), "query": "", "limit": 0, "nonce": "n1"})
    first, second = await wire.recv(), await wire.recv()
    assert [c["d"]["chunk_index"] for c in (first, second)] == [0, 1]
    assert first["d"]["chunk_count"] == 2 and first["d"]["nonce"] == "n1"
    total = len(first["d"]["members"]) + len(second["d"]["members"])
    assert total == create["d"]["member_count"]
    await wire.send(8, {"guild_id": str(world.guild_id), "user_ids": [str(world.owner_id), "1"]})
    found = await wire.recv()
    assert [m["user"]["id"] for m in found["d"]["members"]] == [str(world.owner_id)]
    assert found["d"]["not_found"] == ["1"]
    await wire.ws.close()


async def test_resume_unknown_session_gets_invalid_session(
    standin: StandIn, http: aiohttp.ClientSession
) -> None:
    wire = await open_wire(http, standin, None)
    await wire.send(6, {"token": "standin-test-token", "session_id": "nope", "seq": 3})
    invalid = await wire.recv()
    assert invalid["op"] == 9 and invalid["d"] is False
    await wire.ws.close()


def test_point_and_reset_discord_target() -> None:
    import discord

    api, gateway, cdn = (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )
    point_discord_at("http://127.0.0.1:1234/")
    assert discord.http.Route.BASE == "http://127.0.0.1:1234/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:1234/gateway"
    assert discord.asset.Asset.BASE == "http://127.0.0.1:1234/cdn"
    reset_discord_target()
    assert discord.http.Route.BASE == api == "https://discord.com/api/v10"
    assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    assert cdn == discord.asset.Asset.BASE
