"""Building the world as its owner would (users, guilds, roles, channels, overwrites); each
change is dispatched to the sessions that asked for it."""

from __future__ import annotations

import json
from datetime import datetime

from bot.standin.application import Application
from bot.standin.gateway import Gateway
from bot.standin.intents import GUILDS
from bot.standin.model import (
    BOT_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    Channel,
    Guild,
    Member,
    Role,
)
from bot.standin.state import World


class Builder:
    def __init__(self, world: World, gateway: Gateway, app: Application) -> None:
        self.world = world
        self.gateway = gateway
        self.app = app

    def add_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        bot: bool = False,
        spammer: bool = False,
        avatar: str | None = None,
        created_at: datetime | None = None,
        dms_closed: bool = False,
        public_flags: int = 0,
    ) -> int:
        return self.world.add_user(
            username,
            global_name=global_name,
            bot=bot,
            spammer=spammer,
            avatar=avatar,
            created_at=created_at,
            dms_closed=dms_closed,
            public_flags=public_flags,
        )

    def add_guild(self, name: str, owner_id: int | None = None, screening: bool = False) -> int:
        owner_id = self.app.owner_id if owner_id is None else owner_id
        if owner_id not in self.world.users:
            raise KeyError(f"unknown owner user {owner_id}")
        world = self.world
        guild_id = world.new_id()
        guild = Guild(guild_id, name, owner_id, screening)
        world.guilds[guild_id] = guild
        guild.roles[guild_id] = Role(guild_id, guild_id, "@everyone", 0, EVERYONE_PERMISSIONS)
        bot_role = world.new_id()
        guild.roles[bot_role] = Role(
            bot_role,
            guild_id,
            self.app.name,
            1,
            BOT_PERMISSIONS,
            managed=True,
            bot_id=self.app.bot_user_id,
        )
        now = world.now()
        guild.members[owner_id] = Member(owner_id, guild_id, now)
        guild.members[self.app.bot_user_id] = Member(
            self.app.bot_user_id, guild_id, now, [bot_role]
        )
        guild.ever_joined.update(guild.members)
        for session in list(self.gateway.sessions.values()):  # the bot "joins" a new guild
            data = self.gateway.guild_create(session, guild_id)
            session.send_dispatch("GUILD_CREATE", json.dumps(data))
        return guild_id

    def bot_role_id(self, guild_id: int) -> int:
        guild = self.world.guilds[guild_id]
        return next(r.id for r in guild.roles.values() if r.bot_id == self.app.bot_user_id)

    def add_role(
        self,
        guild_id: int,
        name: str,
        position: int | None = None,
        *,
        permissions: int = 0,
        color: int = 0,
    ) -> int:
        """A role; by default just below the bot's role (so the bot can manage it)."""
        guild = self.world.guilds[guild_id]
        if position is None:
            position = guild.roles[self.bot_role_id(guild_id)].position
        shifted = []
        for role in guild.roles.values():
            if role.id != guild_id and role.position >= position:
                role.position += 1
                shifted.append(role)
        role_id = self.world.new_id()
        role = Role(role_id, guild_id, name, max(1, position), permissions, color=color)
        guild.roles[role_id] = role
        self.gateway.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild_id), "role": role.to_json()}, intent=GUILDS
        )
        for other in shifted:
            self.gateway.dispatch(
                "GUILD_ROLE_UPDATE",
                {"guild_id": str(guild_id), "role": other.to_json()},
                intent=GUILDS,
            )
        return role_id

    def add_text_channel(self, guild_id: int, name: str) -> int:
        guild = self.world.guilds[guild_id]
        channel_id = self.world.new_id()
        channel = Channel(channel_id, 0, name, guild_id, position=len(guild.channels))
        guild.channels[channel_id] = channel
        self.world.channels[channel_id] = channel
        self.gateway.dispatch("CHANNEL_CREATE", channel.to_json(), intent=GUILDS)
        return channel_id

    def set_overwrite(
        self,
        channel_id: int,
        target_id: int,
        *,
        allow: int = 0,
        deny: int = 0,
        member: bool = False,
    ) -> None:
        """A permission overwrite on a guild channel for a role (or a member), as the owner sets
        it; allow = deny = 0 removes it. Dispatches CHANNEL_UPDATE."""
        channel = self.world.channels[channel_id]
        if allow or deny:
            channel.overwrites[target_id] = (1 if member else 0, allow, deny)
        else:
            channel.overwrites.pop(target_id, None)
        self.gateway.dispatch("CHANNEL_UPDATE", channel.to_json(), intent=GUILDS)
