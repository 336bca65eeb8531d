"""Autocomplete interactions (interactions/application-commands.mdx "Autocomplete";
interactions/receiving-and-responding.mdx callback type 8), driven in process and over HTTP."""

from __future__ import annotations

import aiohttp
import discord
import pytest
from discord import app_commands

from bot.standin import SampleWorld, StandIn
from tests.standin.conftest import Connect
from tests.standin.helpers import BareClient

REASONS = [f"reason-{i:02d}" for i in range(40)]


async def _with_autocomplete(world: SampleWorld, connect: Connect) -> tuple[BareClient, list[str]]:
    typed: list[str] = []

    async def setup(client: BareClient) -> None:
        guild = discord.Object(world.guild_id)

        async def reasons(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            typed.append(current)
            found = [r for r in REASONS if r.startswith(current)]
            return [app_commands.Choice(name=r, value=r) for r in found][:25]

        @client.tree.command(name="decline", description="Decline a member", guild=guild)
        @app_commands.autocomplete(reason=reasons)
        async def decline(interaction: discord.Interaction, reason: str, days: int = 1) -> None:
            await interaction.response.send_message(f"declined: {reason}")

        await client.tree.sync(guild=guild)

    return await connect(setup=setup), typed


async def test_autocomplete_is_answered_with_choices(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    """application-commands.mdx "Autocomplete": "The option the user is currently typing will be
    sent with a focused: true boolean field and options the user has already filled will also be
    sent but without the focused field"; receiving-and-responding.mdx: callback 8
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, "autocomplete choices (max of 25 choices)"."""
    _, typed = await _with_autocomplete(world, connect)
    ix = await standin.autocomplete(
        world.guild_id,
        world.general_channel_id,
        world.owner_id,
        "decline",
        {"days": 3, "reason": "reason-1"},
        focused="reason",
    )
    assert ix.type == 4
    sent = {o["name"]: o for o in ix.payload["data"]["options"]}
    assert sent["reason"] == {"name": "reason", "type": 3, "value": "reason-1", "focused": True}
    assert sent["days"] == {"name": "days", "type": 4, "value": 3}
    answer = await ix.wait_response()
    assert answer["type"] == 8
    names = [c["name"] for c in answer["data"]["choices"]]
    assert names == [f"reason-1{i}" for i in range(10)]
    assert typed == ["reason-1"]
    assert standin.messages(world.general_channel_id) == []  # no message for autocomplete


async def test_only_an_autocomplete_option_can_be_focused(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    """application-commands.mdx: autocomplete interactions come for options with
    "autocomplete": true only."""
    await _with_autocomplete(world, connect)
    with pytest.raises(LookupError):
        await standin.autocomplete(
            world.guild_id, world.general_channel_id, world.owner_id, "decline", {"days": 2}, "days"
        )


async def test_more_than_25_choices_and_other_callbacks_are_refused(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    """receiving-and-responding.mdx: the autocomplete result has "max of 25 choices"; 8 is the
    answer to an autocomplete interaction (a message answer is refused)."""
    await _with_autocomplete(world, connect)
    standin.interaction_window = 60.0
    url = standin.base_url + "/api/v10/interactions/{}/{}/callback"

    async def answer(body: dict[str, object]) -> tuple[int, dict[str, object]]:
        ix = await standin.autocomplete(
            world.guild_id,
            world.general_channel_id,
            world.owner_id,
            "decline",
            {"reason": "zz"},
            focused="reason",
        )
        await ix.wait_response()  # the bot's own (empty) answer goes first...
        ix.response = None  # ...then pretend it had not answered, to try other bodies
        async with (
            aiohttp.ClientSession() as http,
            http.post(url.format(ix.id, ix.token), json=body) as resp,
        ):
            return resp.status, await resp.json()

    many = [{"name": f"c{i}", "value": f"{i}"} for i in range(26)]
    status, body = await answer({"type": 8, "data": {"choices": many}})
    assert (status, body["code"]) == (400, 50035)
    status, body = await answer({"type": 4, "data": {"content": "hello"}})
    assert (status, body["code"]) == (400, 50035)


async def test_autocomplete_over_the_control_api(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    """The same interaction from another process: POST /_standin/autocomplete, then
    /_standin/wait_response (application-commands.mdx "Autocomplete")."""
    await _with_autocomplete(world, connect)
    base = f"{standin.base_url}/_standin"
    async with aiohttp.ClientSession() as http:
        body = {
            "guild_id": str(world.guild_id),
            "channel_id": str(world.general_channel_id),
            "user_id": str(world.owner_id),
            "name": "decline",
            "options": {"reason": "reason-3"},
            "focused": "reason",
        }
        async with http.post(f"{base}/autocomplete", json=body) as resp:
            ix = (await resp.json())["result"]
        async with http.post(f"{base}/wait_response", json={"interaction_id": ix["id"]}) as resp:
            answered = (await resp.json())["result"]
    assert answered["response"]["type"] == 8
    assert [c["value"] for c in answered["response"]["data"]["choices"]] == [
        f"reason-3{i}" for i in range(10)
    ]
