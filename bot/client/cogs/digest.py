"""`/digest now`: the owner asks for a digest at once; the daily schedule does not move.

Who may ask is the owner controls' check (`admin_only`: the owner and their delegates);
a refusal and any error are answered by the bot's CommandTree, as for every command.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client.bot import FollowbackBot
from bot.client.tree import admin_only, answer

ADMIN_HINT = discord.Permissions(manage_guild=True)  # a hint for Discord's UI, not a check


class DigestCog(commands.Cog):
    digest = app_commands.Group(
        name="digest",
        description="The daily digest of pending decisions",
        default_permissions=ADMIN_HINT,
    )

    def __init__(self, bot: FollowbackBot) -> None:
        self.bot = bot

    @digest.command(name="now", description="Send the digest now (the daily one stays as it is)")
    @app_commands.check(admin_only)
    async def now(self, interaction: discord.Interaction) -> None:
        service = self.bot.services.digest
        if service is None:
            await answer(interaction, "The digest is not running.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await service.send_now()
        where = "the digest channel" if self.bot.settings.digest_channel_id else "your DMs"
        pages = f"{outcome.pages} page{'s' if outcome.pages != 1 else ''}"
        said = f"Digest on its way to {where}: {pages}." if outcome.queued else "Digest stored."
        await answer(interaction, said)


async def setup(bot: FollowbackBot) -> None:
    await bot.add_cog(DigestCog(bot))
