"""A command added for the sync test: the tree changed, so it is synced again."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client.tree import admin_only


class Extra(commands.Cog):
    @app_commands.command(name="extra", description="Only in the sync test")
    @app_commands.check(admin_only)
    async def extra(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("extra", ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Extra())
