"""Slash commands and persistent buttons through the stand-in."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
from discord import app_commands

from bot.standin import SampleWorld, StandIn
from tests.standin.conftest import Connect
from tests.standin.helpers import BareClient


class Approve(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Approve", custom_id="fb:approve:42", style=discord.ButtonStyle.green)
    async def approve(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:  # type: ignore[type-arg]
        await interaction.response.send_message(
            f"approved by {interaction.user.id}", ephemeral=True
        )


async def _with_commands(world: SampleWorld, connect: Connect) -> BareClient:
    async def setup(client: BareClient) -> None:
        guild = discord.Object(world.guild_id)

        @client.tree.command(name="pending", description="List pending decisions", guild=guild)
        @app_commands.describe(member="Only this member", limit="How many")
        async def pending(
            interaction: discord.Interaction, member: discord.Member | None = None, limit: int = 5
        ) -> None:
            who = member.display_name if member else "everyone"
            await interaction.response.send_message(f"{limit} pending for {who}")

        @client.tree.command(name="slow", description="Defers, then follows up", guild=guild)
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("done thinking")
            await interaction.followup.send("one more thing")

        client.add_view(Approve())
        await client.tree.sync(guild=guild)

    return await connect(setup=setup)


async def test_slash_command_invoked_and_answered(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    await _with_commands(world, connect)
    synced = standin.recorder.requests(
        "PUT", "/applications/{application_id}/guilds/{guild_id}/commands"
    )
    assert [c["name"] for c in synced[0].json] == ["pending", "slow"]
    member = world.member_ids[0]
    ix = await standin.slash(
        world.guild_id,
        world.general_channel_id,
        world.owner_id,
        "pending",
        {"member": member, "limit": 3},
    )
    answer = await ix.wait_response(timeout=5)
    assert answer["type"] == 4
    assert answer["data"]["content"] == "3 pending for Ada"
    (posted,) = standin.messages(world.general_channel_id)
    assert posted["content"] == "3 pending for Ada" and posted["type"] == 20
    (callback,) = standin.recorder.requests(
        "POST", "/interactions/{interaction_id}/{interaction_token}/callback"
    )
    assert callback.query == {"with_response": "1"}


async def test_deferred_command_with_followups(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    await _with_commands(world, connect)
    ix = await standin.slash(world.guild_id, world.general_channel_id, world.owner_id, "slow")
    assert (await ix.wait_response())["type"] == 5
    followups = await ix.wait_followups(2)
    assert [f["content"] for f in followups] == ["done thinking", "one more thing"]
    # the first followup after a deferral replaces the "thinking" message
    contents = [m["content"] for m in standin.messages(world.general_channel_id)]
    assert contents == ["done thinking", "one more thing"]


async def test_button_on_persistent_view_answered(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    bot = await _with_commands(world, connect)
    channel = bot.get_channel(world.digest_channel_id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("Review: newbie", view=Approve())
    ix = await standin.click(world.digest_channel_id, sent.id, "fb:approve:42", world.owner_id)
    answer = await ix.wait_response()
    assert answer["type"] == 4
    assert answer["data"]["content"] == f"approved by {world.owner_id}"
    assert answer["data"]["flags"] & 64  # ephemeral
    assert ix.payload["data"]["component_type"] == 2
    assert len(standin.messages(world.digest_channel_id)) == 1  # ephemeral: not in the channel


async def test_second_response_is_rejected_by_the_standin(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    await _with_commands(world, connect)
    ix = await standin.slash(world.guild_id, world.general_channel_id, world.owner_id, "pending")
    await ix.wait_response()
    url = f"{standin.base_url}/api/v10/interactions/{ix.id}/{ix.token}/callback"
    body = {"type": 4, "data": {"content": "again"}}
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
        assert resp.status == 400
        assert resp.headers["Content-Type"] == "application/json"
        assert (await resp.json())["code"] == 40060


class Reason(discord.ui.Modal, title="Decline reason"):
    reason: discord.ui.TextInput = discord.ui.TextInput(label="Reason", custom_id="fb:reason")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"declined: {self.reason.value}", ephemeral=True)


async def test_modal_shown_and_submitted(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    async def setup(client: BareClient) -> None:
        @client.tree.command(name="decline", description="Decline with a reason")
        async def decline(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Reason())

        await client.tree.sync()

    await connect(setup=setup)
    ix = await standin.slash(world.guild_id, world.general_channel_id, world.owner_id, "decline")
    shown = await ix.wait_response()
    assert shown["type"] == 9 and shown["data"]["custom_id"]
    submitted = await standin.submit_modal(ix, {"fb:reason": "not my niche"})
    answer = await submitted.wait_response()
    assert answer["data"]["content"] == "declined: not my niche"


class Toggle(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Hold", custom_id="fb:hold:7")
    async def hold(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:  # type: ignore[type-arg]
        await interaction.response.defer()  # type 6 for a component
        await interaction.edit_original_response(content="Held for review", view=None)


async def test_component_update_edits_the_clicked_message(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    async def setup(client: BareClient) -> None:
        client.add_view(Toggle())

    bot = await connect(setup=setup)
    channel = bot.get_channel(world.digest_channel_id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("newbie joined", view=Toggle())
    ix = await standin.click(world.digest_channel_id, sent.id, "fb:hold:7", world.owner_id)
    assert (await ix.wait_response())["type"] == 6
    for _ in range(200):
        if ix.edits:
            break
        await asyncio.sleep(0.01)
    (message,) = standin.messages(world.digest_channel_id)
    assert message["content"] == "Held for review" and message["components"] == []


async def test_late_callback_is_unknown_interaction(
    standin: StandIn, world: SampleWorld, connect: Connect
) -> None:
    standin.interaction_window = 0.05  # Discord allows 3 s; shrunk so the test stays fast

    async def setup(client: BareClient) -> None:
        @client.tree.command(name="slowpoke", description="Answers too late")
        async def slowpoke(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.2)
            await interaction.response.send_message("too late")

        await client.tree.sync()

    await connect(setup=setup)
    await standin.slash(world.guild_id, world.general_channel_id, world.owner_id, "slowpoke")
    (late,) = await standin.wait_for(
        "POST", "/interactions/{interaction_id}/{interaction_token}/callback"
    )
    assert late.status == 404
    assert standin.messages(world.general_channel_id) == []
