"""Driver actions for members and their messages: joins, leaves, role and nick changes by
the owner, messages, edits, deletes and reactions (each dispatched as Discord would)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import datetime

from bot.standin.events import Events
from bot.standin.gateway import Gateway
from bot.standin.intents import GUILD_MEMBERS
from bot.standin.model import Json, Member, Message
from bot.standin.state import World

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
DID_REJOIN = 1 << 0


class MemberDriver:
    def __init__(self, world: World, gateway: Gateway, events: Events) -> None:
        self.world = world
        self.gateway = gateway
        self.events = events

    def new_member(
        self,
        guild_id: int,
        user_id: int,
        joined_at: datetime | None,
        pending: bool | None,
    ) -> Json:
        guild = self.world.guilds[guild_id]
        if user_id in guild.members:
            raise ValueError(f"user {user_id} is already a member of guild {guild_id}")
        member = Member(
            user_id,
            guild_id,
            joined_at or self.world.now(),
            pending=guild.screening if pending is None else pending,
            flags=DID_REJOIN if user_id in guild.ever_joined else 0,
        )
        guild.members[user_id] = member
        guild.ever_joined.add(user_id)
        data = member.to_json(self.world.users[user_id])
        data["guild_id"] = str(guild_id)
        return data

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        joined_at: datetime | None = None,
        roles: Sequence[int] = (),
        pending: bool | None = None,
        nick: str | None = None,
    ) -> None:
        """Seed an existing user as a member (sync; GUILD_MEMBER_ADD goes to connected bots)."""
        data = self.new_member(guild_id, user_id, joined_at, pending)
        member = self.world.guilds[guild_id].members[user_id]
        member.roles = [r for r in roles if r != guild_id]
        member.nick = nick
        if roles or nick:
            data = member.to_json(self.world.users[user_id])
            data["guild_id"] = str(guild_id)
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, intent=GUILD_MEMBERS)

    async def join(
        self,
        guild_id: int,
        user_id: int | None = None,
        *,
        username: str | None = None,
        global_name: str | None = None,
        bot: bool = False,
        spammer: bool = False,
        avatar: str | None = None,
        created_at: datetime | None = None,
        joined_at: datetime | None = None,
        pending: bool | None = None,
        dms_closed: bool = False,
    ) -> int:
        """A user joins (created first if `user_id` is None); dispatches GUILD_MEMBER_ADD.
        `pending` defaults to the guild's screening setting."""
        if user_id is None:
            user_id = self.world.add_user(
                username or f"user{len(self.world.users)}",
                global_name=global_name,
                bot=bot,
                spammer=spammer,
                avatar=avatar,
                created_at=created_at,
                dms_closed=dms_closed,
            )
        data = self.new_member(guild_id, user_id, joined_at, pending)
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, intent=GUILD_MEMBERS)
        await asyncio.sleep(0)
        return user_id

    async def join_many(
        self,
        guild_id: int,
        n: int,
        *,
        prefix: str = "member",
        created_at: datetime | None = None,
        pending: bool | None = None,
    ) -> list[int]:
        """Bulk joins for benchmarks: one GUILD_MEMBER_ADD each, written in batches."""
        ids = []
        for i in range(n):
            uid = self.world.add_user(f"{prefix}{i}", created_at=created_at)
            self.gateway.dispatch(
                "GUILD_MEMBER_ADD",
                self.new_member(guild_id, uid, None, pending),
                intent=GUILD_MEMBERS,
            )
            ids.append(uid)
            if i % 500 == 499:
                await asyncio.sleep(0)  # let the writer tasks drain
        await asyncio.sleep(0)
        return ids

    async def repeat_join(self, guild_id: int, user_id: int) -> None:
        """GUILD_MEMBER_ADD again for someone already a member: "This event may also be sent for
        users who are already members of the guild" (events/gateway-events.mdx)."""
        data = self.world.member_json(guild_id, user_id)
        data["guild_id"] = str(guild_id)
        self.gateway.dispatch("GUILD_MEMBER_ADD", data, intent=GUILD_MEMBERS)
        await asyncio.sleep(0)

    async def leave(self, guild_id: int, user_id: int) -> datetime:
        """The member leaves; dispatches GUILD_MEMBER_REMOVE. Returns the stand-in's time of it."""
        guild = self.world.guilds[guild_id]
        guild.members.pop(user_id)
        left_at = self.world.now()
        data = {"guild_id": str(guild_id), "user": self.world.user_json(user_id)}
        self.gateway.dispatch("GUILD_MEMBER_REMOVE", data, intent=GUILD_MEMBERS)
        await asyncio.sleep(0)
        return left_at

    async def complete_screening(self, guild_id: int, user_id: int) -> None:
        self.world.guilds[guild_id].members[user_id].pending = False
        self.events.member_updated(guild_id, user_id)
        await asyncio.sleep(0)

    async def set_member_roles(self, guild_id: int, user_id: int, role_ids: Sequence[int]) -> None:
        """The owner edits a member's roles by hand."""
        guild = self.world.guilds[guild_id]
        unknown = [r for r in role_ids if r not in guild.roles]
        if unknown:
            raise KeyError(f"unknown roles {unknown}")
        guild.members[user_id].roles = [r for r in role_ids if r != guild_id]
        self.events.member_updated(guild_id, user_id)
        await asyncio.sleep(0)

    async def set_nick(self, guild_id: int, user_id: int, nick: str | None) -> None:
        self.world.guilds[guild_id].members[user_id].nick = nick
        self.events.member_updated(guild_id, user_id)
        await asyncio.sleep(0)

    # -- messages --------------------------------------------------------------------------------
    async def say(
        self,
        channel_id: int,
        author_id: int,
        content: str,
        *,
        mentions: Sequence[int] = (),
        reply_to: int | None = None,
        mention_roles: Sequence[int] = (),
        embeds: Sequence[Json] = (),
        attachments: Sequence[Json] = (),
    ) -> Json:
        """A user posts a message (MESSAGE_CREATE). <@id>/<@&id> in content count as mentions too;
        a reply pings the replied-to author, as Discord's client does by default."""
        world = self.world
        channel = world.channels[channel_id]
        users = list(dict.fromkeys([*mentions, *(int(u) for u in USER_MENTION.findall(content))]))
        if reply_to is not None:
            target = world.messages[reply_to]
            if target.author_id not in users:
                users.append(target.author_id)
        roles = list(
            dict.fromkeys([*mention_roles, *(int(r) for r in ROLE_MENTION.findall(content))])
        )
        msg = Message(
            id=world.new_id(),
            channel_id=channel_id,
            author_id=author_id,
            content=content,
            guild_id=channel.guild_id,
            embeds=list(embeds),
            attachments=list(attachments),
            mentions=[u for u in users if u in world.users],
            mention_roles=roles,
            mention_everyone="@everyone" in content or "@here" in content,
            reference_id=reply_to,
        )
        self.events.message_created(msg)
        await asyncio.sleep(0)
        return world.message_json(msg.id)

    async def edit(self, message_id: int, content: str) -> Json:
        """The author edits a message (MESSAGE_UPDATE)."""
        msg = self.world.messages[message_id]
        msg.content = content
        msg.edited_at = self.world.now()
        self.events.message_updated(msg)
        await asyncio.sleep(0)
        return self.world.message_json(message_id)

    async def delete(self, message_id: int) -> None:
        """The author (or a moderator) deletes a message (MESSAGE_DELETE)."""
        self.events.message_deleted(self.world.messages[message_id])
        await asyncio.sleep(0)

    async def react(self, message_id: int, user_id: int, emoji: str) -> None:
        """A user adds a reaction (MESSAGE_REACTION_ADD); `emoji` is '👍' or 'name:id'."""
        msg = self.world.messages[message_id]
        users = msg.reactions.setdefault(emoji, [])
        if user_id not in users:
            users.append(user_id)
            self.events.reaction(msg, user_id, emoji, added=True)
        await asyncio.sleep(0)

    async def dm(self, user_id: int, content: str) -> Json:
        """A user writes to the bot in DMs."""
        return await self.say(self.world.dm_channel(user_id).id, user_id, content)
