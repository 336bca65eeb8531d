"""Gateway events about followers, handed to the pipeline. Thin: no decisions here."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.client.convert import message_counters, user_info

if TYPE_CHECKING:
    from bot.client.bot import FollowbackBot

log = logging.getLogger(__name__)


class FollowersCog(commands.Cog):
    def __init__(self, bot: FollowbackBot) -> None:
        self.bot = bot
        # One member's events are handled in order (a join before its screening update).
        self._locks: defaultdict[tuple[int, int], asyncio.Lock] = defaultdict(asyncio.Lock)

    def _lock(self, guild_id: int, user_id: int) -> asyncio.Lock:
        return self._locks[(guild_id, user_id)]

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        for guild in self.bot.guilds:
            if self.bot.watches(guild.id):
                await self.catch_up(guild)
        self.bot.caught_up.set()

    async def catch_up(self, guild: discord.Guild) -> None:
        """Joins, leaves and role edits that happened while the bot was offline."""
        store, followers = self.bot.store, self.bot.followers
        known = await store.known_members(guild.id)
        role_id = self.bot.directory.role_id(guild.id, self.bot.policies.current.follow_back_role)
        caught = 0
        for member in guild.members:
            if self.bot.user is not None and member.id == self.bot.user.id:
                continue
            if member.id not in known or not known[member.id].present:
                # Re-read under the lock: a live join may have just been handled.
                async with self._lock(guild.id, member.id):
                    fresh = await store.get_member(guild.id, member.id)
                if fresh is not None and fresh.present:
                    continue
            row = known.get(member.id)
            async with self._lock(guild.id, member.id):
                if row is None or (
                    not row.present
                    and member.joined_at is not None
                    and (row.left_at is None or member.joined_at > row.left_at)
                ):
                    await followers.member_joined(
                        guild.id,
                        user_info(member),
                        member.joined_at or self.bot.clock.now(),
                        pending=member.pending,
                        kind="catch_up",
                    )
                    caught += 1
                elif row.pending and not member.pending:
                    await followers.screening_done(guild.id, member.id)
                elif role_id is not None:
                    has_role = member.get_role(role_id) is not None
                    if has_role != row.followed:
                        # Never re-add what the owner took away: record it instead.
                        await followers.follow_role_changed_by_hand(guild.id, member.id, has_role)
        for user_id, row in known.items():
            if row.present and guild.get_member(user_id) is None:
                await followers.member_left(guild.id, user_id)
        log.info("catch-up in %s: %d members processed as joins", guild.name, caught)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if not self.bot.watches(member.guild.id):
            return
        async with self._lock(member.guild.id, member.id):
            await self.bot.followers.member_joined(
                member.guild.id,
                user_info(member),
                member.joined_at or self.bot.clock.now(),
                pending=member.pending,
            )

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        guild_id = after.guild.id
        if not self.bot.watches(guild_id):
            return
        async with self._lock(guild_id, after.id):
            if before.pending and not after.pending:
                await self.bot.followers.screening_done(guild_id, after.id)
            role_id = self.bot.directory.role_id(
                guild_id, self.bot.policies.current.follow_back_role
            )
            if role_id is None:
                return
            had, has = before.get_role(role_id) is not None, after.get_role(role_id) is not None
            if had != has and not self.bot.is_role_echo(guild_id, after.id):
                await self.bot.followers.follow_role_changed_by_hand(guild_id, after.id, has)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if not self.bot.watches(payload.guild_id):
            return
        async with self._lock(payload.guild_id, payload.user.id):
            await self.bot.followers.member_left(payload.guild_id, payload.user.id)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot or not self.bot.watches(message.guild.id):
            return
        owner = self.bot.owner_user_id
        mentions_owner = owner is not None and any(u.id == owner for u in message.mentions)
        await self.bot.followers.message_seen(
            message.guild.id,
            message.author.id,
            owner_mentions=int(mentions_owner),
            **message_counters(message),
        )
