"""Gateway events about mentions, handed to the mention service. Thin: no decisions here.

A message in a watched guild is a mention when its user mentions name the owner or the
bot (not a role, not @everyone), or when it replies to one of the owner's messages. The
owner's own posts, replies and reactions are handed over too (they answer a mention),
and so are deletions. At READY, each readable channel's history since the last message
seen (bounded by the policy's `catch_up`) is read for the mentions posted meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import discord
from discord.ext import commands

from bot.client.bot import FollowbackBot
from bot.client.convert import role_names, user_info
from bot.service._mention_rules import BOT, SYSTEM, USER, WEBHOOK
from bot.service.events import member_label
from bot.service.mentions import MentionService, SeenMention, clock_time_for
from bot.store import MentionInput

log = logging.getLogger(__name__)

HISTORY_PAGE = 100  # messages per history request (Discord's most)


def author_kind(message: discord.Message) -> str:
    if message.webhook_id is not None:
        return WEBHOOK
    if message.is_system():
        return SYSTEM
    return BOT if message.author.bot else USER


def replied_author(message: discord.Message) -> int | None:
    """Whose message this one replies to, when Discord sent the message it answers."""
    ref = message.reference
    if ref is None or not isinstance(ref.resolved, discord.Message):
        return None
    return ref.resolved.author.id


class MentionsCog(commands.Cog):
    def __init__(self, bot: FollowbackBot) -> None:
        self.bot = bot
        self._catch_up: asyncio.Task[None] | None = None

    @property
    def mentions(self) -> MentionService | None:
        return self.bot.services.mentions

    @property
    def owner_id(self) -> int | None:
        return self.bot.services.owner_id

    def seen(self, message: discord.Message, source: str = "live") -> SeenMention | None:
        """The message as a mention, or None if it is not one."""
        assert message.guild is not None and self.bot.user is not None
        if not message.mentions and message.reference is None:
            return None  # most messages: nobody named, nothing answered
        owner, me = self.owner_id, self.bot.user.id
        users = {user.id for user in message.mentions}
        mentions_owner = owner is not None and owner in users
        mentions_bot = me in users
        replies_to_owner = owner is not None and replied_author(message) == owner
        if not (mentions_owner or mentions_bot or replies_to_owner):
            return None
        # Without the intent Discord sends no text, unless the bot itself is mentioned.
        text_known = self.bot.intents.message_content or mentions_bot
        channel = message.channel
        parent = channel.parent if isinstance(channel, discord.Thread) else None
        author = message.author
        item = MentionInput(
            guild_id=message.guild.id,
            channel_id=channel.id,
            message_id=message.id,
            author_id=author.id,
            author_name=member_label(author.display_name, author.name),
            posted_at=clock_time_for(self.bot.clock, message.created_at),
            text=message.content if text_known else None,
            mentions_owner=mentions_owner,
            mentions_bot=mentions_bot,
            replies_to_owner=replies_to_owner,
            author_kind=author_kind(message),
            channel_name=getattr(channel, "name", "") or "",
            parent_id=parent.id if parent is not None else 0,
            parent_name=parent.name if parent is not None else "",
            source=source,
        )
        roles = role_names(author) if isinstance(author, discord.Member) else frozenset()
        return SeenMention(item, user_info(author), roles)

    # --- live ------------------------------------------------------------------------

    async def cog_load(self) -> None:
        self.bot.message_readers.append(self.read_message)

    def read_message(self, message: discord.Message) -> None:
        """Each message, from the bot's own on_message (no task of its own: most messages
        only move the channel's cursor)."""
        service = self.mentions
        if service is None or message.guild is None or not self.bot.watches(message.guild.id):
            return
        service.message_seen(message.guild.id, message.channel.id, message.id)
        if self.bot.user is not None and message.author.id == self.bot.user.id:
            return  # its own message never asks for an answer
        if self.owner_id is not None and message.author.id == self.owner_id:
            reply_to = message.reference.message_id if message.reference else None
            service.owner_posted(message.channel.id, message.id, reply_to)
            return
        seen = self.seen(message)
        if seen is not None:
            service.mention(seen)

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        service = self.mentions
        if service is not None and payload.user_id == self.owner_id:
            service.owner_reacted(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        service = self.mentions
        if service is not None and payload.guild_id is not None:
            service.message_deleted(payload.message_id)

    # --- start-up: what was said while the bot was down ------------------------------

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if self.mentions is None:
            return
        if self._catch_up is not None and not self._catch_up.done():
            self._catch_up.cancel()
        self._catch_up = asyncio.create_task(
            self.catch_up_all(), name="followback-mention-catch-up"
        )

    async def cog_unload(self) -> None:
        if self.read_message in self.bot.message_readers:
            self.bot.message_readers.remove(self.read_message)
        if self._catch_up is not None:
            self._catch_up.cancel()

    async def catch_up_all(self) -> None:
        for guild in self.bot.guilds:
            if self.bot.watches(guild.id):
                try:
                    await self.catch_up(guild)
                except Exception:
                    log.exception("mention catch-up in %s failed", guild.name)

    async def catch_up(self, guild: discord.Guild) -> int:
        """Mentions posted since the last message seen in each readable channel; returns
        how many were new."""
        service = self.mentions
        assert service is not None
        policy = self.bot.services.policies.current.replying
        if not policy.catch_up:
            return 0
        clock = self.bot.clock
        oldest = clock.real_time_for(clock.now() - policy.catch_up)
        cursors = await service.channel_cursors(guild.id)
        limit = policy.catch_up_pages * HISTORY_PAGE
        channels: list[discord.TextChannel | discord.Thread] = [*guild.text_channels]
        channels += guild.threads
        new = 0
        for channel in channels:
            perms = channel.permissions_for(guild.me)
            if not (perms.view_channel and perms.read_message_history):
                continue
            start = cursors.get(channel.id)
            after: discord.abc.Snowflake | datetime = (
                discord.Object(start) if start is not None else oldest
            )
            if start is not None and discord.utils.snowflake_time(start) < oldest:
                after = oldest
            new += await self._catch_up_channel(service, channel, after, limit)
        log.info("mention catch-up in %s: %d mentions found", guild.name, new)
        return new

    async def _catch_up_channel(
        self,
        service: MentionService,
        channel: discord.TextChannel | discord.Thread,
        after: discord.abc.Snowflake | datetime,
        limit: int,
    ) -> int:
        found: list[SeenMention] = []
        owner_posts: list[tuple[int, int]] = []
        me = self.bot.user.id if self.bot.user else None
        try:
            async for message in channel.history(limit=limit, after=after, oldest_first=True):
                service.message_seen(channel.guild.id, channel.id, message.id)
                if message.author.id == me:
                    continue
                if message.author.id == self.owner_id:
                    owner_posts.append((channel.id, message.id))
                    continue
                seen = self.seen(message, source="catch_up")
                if seen is not None:
                    found.append(seen)
        except discord.HTTPException as exc:
            log.info("cannot read #%s for mentions: %s", channel.name, exc)
        return await service.catch_up(found, owner_posts)


async def setup(bot: commands.Bot) -> None:
    """Loaded by name (`bot.load_extension`) from FollowbackBot.setup_hook."""
    if not isinstance(bot, FollowbackBot):
        raise TypeError("the mentions cog needs a FollowbackBot")
    await bot.add_cog(MentionsCog(bot))
