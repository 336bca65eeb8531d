"""Answers the pipeline's questions about guilds from discord.py's cache."""

from __future__ import annotations

import discord

from bot.client.convert import role_names


class GuildDirectory:
    def __init__(self, client: discord.Client) -> None:
        self._client = client

    def guild_known(self, guild_id: int) -> bool:
        # Once the client is ready, a guild it does not have will not come: act anyway.
        return self._client.get_guild(guild_id) is not None or self._client.is_ready()

    def role_id(self, guild_id: int, name_or_id: str) -> int | None:
        guild = self._client.get_guild(guild_id)
        if guild is None:
            return None
        if name_or_id.isdigit() and guild.get_role(int(name_or_id)) is not None:
            return int(name_or_id)
        role = discord.utils.get(guild.roles, name=name_or_id)
        return role.id if role is not None else None

    def member_roles(self, guild_id: int, user_id: int) -> frozenset[str]:
        guild = self._client.get_guild(guild_id)
        member = guild.get_member(user_id) if guild is not None else None
        return role_names(member) if member is not None else frozenset()
