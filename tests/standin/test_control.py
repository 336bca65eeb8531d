"""The /_standin/ control API and the `followback standin` command."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest

from bot.cli import main
from bot.client.target import point_discord_at, reset_discord_target
from bot.standin import SampleWorld, StandIn
from bot.standin.chunking import ALL_MEMBERS_WINDOW
from tests.standin.helpers import BareClient, all_intents


async def _post(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> Any:
    async with http.post(url, json=kwargs) as resp:
        data = await resp.json()
        assert resp.status == 200, data
        return data["result"]


async def test_control_http_api(standin: StandIn, world: SampleWorld, bot: BareClient) -> None:
    base = f"{standin.base_url}/_standin"
    async with aiohttp.ClientSession() as http:
        async with http.get(base) as resp:
            info = await resp.json()
        assert info["app_id"] == str(standin.app_id) and info["connected"] == 1
        uid = await _post(http, f"{base}/join", guild_id=str(world.guild_id), username="remote")
        (member,) = (await bot.wait_seen("member_join"))[0]
        assert str(member.id) == uid
        await bot.http.add_role(world.guild_id, member.id, world.follow_back_role_id)
        roles = await _post(http, f"{base}/member_roles", guild_id=world.guild_id, user_id=uid)
        assert roles == [str(world.follow_back_role_id)]
        async with http.get(
            f"{base}/requests", params={"route": "PUT /guilds/{g}/members/{u}/roles/{r}"}
        ) as resp:
            (recorded,) = (await resp.json())["result"]
        assert recorded["status"] == 204 and recorded["method"] == "PUT"
        await _post(http, f"{base}/fail", route="GET /users/{user_id}", status=404, code=10013)
        try:
            await bot.fetch_user(member.id)
        except discord.NotFound as exc:
            assert exc.code == 10013
        else:
            raise AssertionError("fault not applied")
        msg = await _post(
            http, f"{base}/say", channel_id=world.general_channel_id, author_id=uid, content="yo"
        )
        assert msg["content"] == "yo"
        async with http.post(f"{base}/nope", json={}) as resp:
            assert resp.status == 404


FOLLOWBACK = Path(sys.executable).with_name("followback")


def test_followback_standin_keeps_discords_member_request_window_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["standin", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--member-request-window SECONDS" in help_text
    assert f"(default: {ALL_MEMBERS_WINDOW}, Discord's)" in help_text


async def test_followback_standin_command_serves_a_bare_client() -> None:
    cmd = [str(FOLLOWBACK)] if FOLLOWBACK.exists() else [sys.executable, "-m", "bot"]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        "standin",
        "--port",
        "0",
        "--member-request-window",
        "2.5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    client = BareClient(all_intents())
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
        match = re.fullmatch(r"standin ready: (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        assert int(match.group(2)) > 0
        async with aiohttp.ClientSession() as http, http.get(f"{match.group(1)}/_standin") as resp:
            assert (await resp.json())["member_request_window"] == 2.5
        point_discord_at(match.group(1))
        task = asyncio.create_task(client.start("any-token-works"))
        await asyncio.wait_for(client.wait_until_ready(), 10)
        assert [g.name for g in client.guilds] == ["Followback Test Server"]
        guild = client.guilds[0]
        assert discord.utils.get(guild.roles, name="Mutuals") is not None
        await client.close()
        await task
    finally:
        reset_discord_target()
        if not client.is_closed():
            await client.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 10)
    assert code == 0


async def test_join_and_leave_answer_with_the_standins_own_time(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    base = f"{standin.base_url}/_standin"
    async with aiohttp.ClientSession() as http:
        before = datetime.now(UTC)
        async with http.post(f"{base}/join", json={"guild_id": str(world.guild_id)}) as resp:
            joined = await resp.json()
        uid = joined["result"]  # the user id, as before
        member = await _post(http, f"{base}/member", guild_id=world.guild_id, user_id=uid)
        joined_at = datetime.fromisoformat(joined["joined_at"])
        assert joined_at == datetime.fromisoformat(member["joined_at"])  # what the bot is told
        assert before <= joined_at <= datetime.now(UTC)
        given = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
        async with http.post(
            f"{base}/join",
            json={"guild_id": str(world.guild_id), "username": "x", "joined_at": given.isoformat()},
        ) as resp:
            assert datetime.fromisoformat((await resp.json())["joined_at"]) == given
        async with http.post(
            f"{base}/leave", json={"guild_id": str(world.guild_id), "user_id": uid}
        ) as resp:
            left = await resp.json()
        left_at = datetime.fromisoformat(left["left_at"])
        assert joined_at <= left_at <= datetime.now(UTC)
        assert left["result"] == left["left_at"]
    (removed,) = (await bot.wait_seen("raw_member_remove"))[0]
    assert removed.user.id == int(uid)


async def test_every_dm_the_bot_sent_in_one_query(
    standin: StandIn, world: SampleWorld, bot: BareClient
) -> None:
    first, second = world.member_ids[0], world.member_ids[1]
    for uid, text in ((first, "one"), (second, "two"), (first, "three")):
        await (await bot.fetch_user(uid)).send(text)
    await standin.dm(second, "a reply from the member")  # not the bot's: left out
    base = f"{standin.base_url}/_standin"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/dms") as resp:
            dms = (await resp.json())["result"]
        assert await _post(http, f"{base}/all_dms") == dms
    assert [(m["recipient_id"], m["content"]) for m in dms] == [
        (str(first), "one"),
        (str(second), "two"),
        (str(first), "three"),
    ]
    assert all(m["author"]["id"] == str(standin.bot_user_id) for m in dms)
