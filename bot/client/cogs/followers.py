"""Gateway events about followers, handed to the pipeline. Thin: no decisions here.

Handlers only submit to the pipeline's queue (which keeps each member's events in
order) and return, so a burst of joins costs the event loop little.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord.ext import commands

from bot.client.bot import FollowbackBot
from bot.client.convert import message_counters, user_info
from bot.client.roster import is_complete
from bot.service.followers import FollowerService, MemberSnapshot
from bot.service.policy_holder import PolicyHolder

log = logging.getLogger(__name__)


class FollowersCog(commands.Cog):
    def __init__(self, bot: FollowbackBot) -> None:
        self.bot = bot
        self._catch_ups: set[asyncio.Task[None]] = set()
        self._all_caught_up: asyncio.Task[None] | None = None

    @property
    def followers(self) -> FollowerService:
        return self.bot.services.followers

    @property
    def policies(self) -> PolicyHolder:
        return self.bot.services.policies

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Catch up each watched guild in its own task, once its member list is complete.

        Start-up goes on (`serving`) once every guild is caught up or waiting for its list;
        `caught_up` once all are caught up. A new READY (a fresh session) starts over."""
        self._cancel_catch_ups()
        guilds = [guild for guild in self.bot.guilds if self.bot.watches(guild.id)]
        settled = [asyncio.Event() for _ in guilds]
        self._catch_ups = {
            asyncio.create_task(
                self._catch_up_when_complete(guild, done), name=f"followback-catch-up-{guild.id}"
            )
            for guild, done in zip(guilds, settled, strict=True)
        }
        self._all_caught_up = asyncio.create_task(self._all_done(set(self._catch_ups)))
        for done in settled:
            await done.wait()
        self.bot.serving.set()

    async def _catch_up_when_complete(self, guild: discord.Guild, settled: asyncio.Event) -> None:
        try:
            if not is_complete(guild):
                # A partial list would turn everyone missing into a leave: wait for the rest.
                settled.set()
                await self.bot.member_lists.wait_until_complete(guild)
            await self.catch_up(guild)
        finally:
            settled.set()

    async def _all_done(self, tasks: set[asyncio.Task[None]]) -> None:
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        for exc in failed:
            if not isinstance(exc, asyncio.CancelledError):
                log.error("catch-up failed", exc_info=exc)
        if not failed:
            self.bot.caught_up.set()

    def _cancel_catch_ups(self) -> None:
        for task in (*self._catch_ups, *([self._all_caught_up] if self._all_caught_up else [])):
            task.cancel()
        self._catch_ups = set()
        self._all_caught_up = None

    async def cog_load(self) -> None:
        self.bot.message_readers.append(self.read_message)

    async def cog_unload(self) -> None:
        if self.read_message in self.bot.message_readers:
            self.bot.message_readers.remove(self.read_message)
        self._cancel_catch_ups()

    async def catch_up(self, guild: discord.Guild) -> None:
        """Hand the pipeline who is in the guild now; it reconciles with the store.

        The snapshot is taken here, at once (no await), as slim rows holding what
        discord.py already holds: a UserInfo is made only for a member a decision needs."""
        role_id = self.bot.directory.role_id(guild.id, self.policies.current.follow_back_role)
        opt_in = bool(self.policies.current.follower_role)
        follower_role = self._follower_role(guild.id)
        members = guild.members
        log.info("catch-up of %s started: %d members", guild.name, len(members))
        rows = [
            (
                member.id,
                member.joined_at,
                member.pending,
                None if role_id is None else member.get_role(role_id) is not None,
                not opt_in
                or (follower_role is not None and member.get_role(follower_role) is not None),
                member,
            )
            for member in members
        ]
        del members
        # The run log says the result (CatchUpDone): counts, members compared, time taken.
        await self.followers.catch_up(guild.id, MemberSnapshot(rows, user_info))

    def _follower_role(self, guild_id: int) -> int | None:
        """In opt-in servers a member becomes a follower on receiving this role."""
        name = self.policies.current.follower_role
        return self.bot.directory.role_id(guild_id, name) if name else None

    def _is_follower(self, member: discord.Member) -> bool:
        name = self.policies.current.follower_role
        if not name:
            return True
        role_id = self._follower_role(member.guild.id)
        return role_id is not None and member.get_role(role_id) is not None

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        if self.bot.watches(member.guild.id) and self._is_follower(member):
            self.followers.member_joined(
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
        if before.pending and not after.pending:
            self.followers.screening_done(guild_id, after.id)
        follower_role = self._follower_role(guild_id)
        if (
            follower_role is not None
            and before.get_role(follower_role) is None
            and after.get_role(follower_role) is not None
        ):
            # Opt-in following: receiving the follower role is the "follow".
            self.followers.member_joined(
                guild_id,
                user_info(after),
                after.joined_at or self.bot.clock.now(),
                pending=after.pending,
            )
        role_id = self.bot.directory.role_id(guild_id, self.policies.current.follow_back_role)
        if role_id is None:
            return
        had, has = before.get_role(role_id) is not None, after.get_role(role_id) is not None
        if had != has and not self.bot.is_role_echo(guild_id, after.id):
            self.followers.follow_role_changed_by_hand(guild_id, after.id, has)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if self.bot.watches(payload.guild_id):
            self.followers.member_left(payload.guild_id, payload.user.id)

    def read_message(self, message: discord.Message) -> None:
        """Counted as activity (one of the bot's message readers: no task per message)."""
        if message.guild is None or message.author.bot or not self.bot.watches(message.guild.id):
            return
        owner = self.bot.services.owner_id
        mentions_owner = owner is not None and any(u.id == owner for u in message.mentions)
        self.followers.message_seen(
            message.guild.id,
            message.author.id,
            messages=1,
            owner_mentions=int(mentions_owner),
            **message_counters(message),
        )


async def setup(bot: commands.Bot) -> None:
    """Loaded by name (`bot.load_extension`) from FollowbackBot.setup_hook."""
    if not isinstance(bot, FollowbackBot):
        raise TypeError("the followers cog needs a FollowbackBot")
    await bot.add_cog(FollowersCog(bot))
