"""The stand-in's world: every record, with Discord-shaped JSON views of it.

Shapes follow Discord's API v10 documentation; they are written out by hand (no discord.py
imports) so that discord.py's parsing is really exercised.
"""

from __future__ import annotations

from datetime import datetime

from bot.standin.model import (
    OWNER_PERMISSIONS,
    SPAMMER_FLAG,
    Channel,
    Guild,
    Json,
    Message,
    User,
    reaction_json,
)
from bot.standin.snowflake import Snowflakes, iso, now


class World:
    """All state, with Discord-shaped JSON views of it."""

    def __init__(self) -> None:
        self.ids = Snowflakes()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.dm_by_user: dict[int, int] = {}
        self.global_commands: dict[int, Json] = {}
        self.bot_user_id = 0  # set by the StandIn once its bot user exists

    # -- lookups -----------------------------------------------------------------------------
    def user_json(self, user_id: int) -> Json:
        return self.users[user_id].to_json()

    def member_json(self, guild_id: int, user_id: int, *, with_user: bool = True) -> Json:
        member = self.guilds[guild_id].members[user_id]
        return member.to_json(self.users[user_id] if with_user else None)

    def member_permissions(self, guild_id: int, user_id: int) -> int:
        guild = self.guilds[guild_id]
        if user_id == guild.owner_id:
            return OWNER_PERMISSIONS
        member = guild.members.get(user_id)
        perms = guild.roles[guild_id].permissions
        for role_id in member.roles if member else []:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & 8:  # administrator
            return OWNER_PERMISSIONS
        return perms

    def top_role_position(self, guild_id: int, user_id: int) -> int:
        guild = self.guilds[guild_id]
        member = guild.members.get(user_id)
        positions = [
            guild.roles[r].position for r in (member.roles if member else []) if r in guild.roles
        ]
        return max(positions, default=0)

    def channel_json(self, channel_id: int) -> Json:
        return self.channels[channel_id].to_json(self.users)

    def guild_json(self, guild_id: int, *, counts: bool = False) -> Json:
        guild = self.guilds[guild_id]
        data = guild.base_json()
        if counts:
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return data

    def guild_create_json(
        self, guild_id: int, member_ids: list[int], bot_id: int, *, large: bool
    ) -> Json:
        guild = self.guilds[guild_id]
        data = guild.base_json()
        me = guild.members.get(bot_id)
        data.update(
            {
                "joined_at": iso(me.joined_at if me else guild.members[bot_id].joined_at),
                "large": large,
                "unavailable": False,
                "member_count": len(guild.members),
                "voice_states": [],
                "members": [self.member_json(guild_id, uid) for uid in member_ids],
                "channels": [c.to_json() for c in guild.channels.values()],
                "threads": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return data

    def message_json(self, message_id: int, *, with_reference: bool = True) -> Json:
        msg = self.messages[message_id]
        author = self.users[msg.author_id]
        data: Json = {
            "id": str(msg.id),
            "type": msg.type,
            "channel_id": str(msg.channel_id),
            "author": author.to_json(),
            "content": msg.content,
            "timestamp": iso(msg.timestamp),
            "edited_timestamp": iso(msg.edited_at) if msg.edited_at else None,
            "tts": msg.tts,
            "mention_everyone": msg.mention_everyone,
            "mentions": [],
            "mention_roles": [str(r) for r in msg.mention_roles],
            "attachments": msg.attachments,
            "embeds": msg.embeds,
            "pinned": False,
            "components": msg.components,
            "flags": msg.flags,
        }
        if msg.nonce is not None:
            data["nonce"] = msg.nonce
        if msg.reactions:
            data["reactions"] = [
                reaction_json(emoji, users, self.bot_user_id)
                for emoji, users in msg.reactions.items()
                if users
            ]
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
        if msg.interaction_id is not None:
            data["application_id"] = str(msg.webhook_id)
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        for uid in msg.mentions:
            user = self.users.get(uid)
            if user is None:
                continue
            mentioned = user.to_json()
            if guild is not None and uid in guild.members:
                mentioned["member"] = guild.members[uid].to_json()
            data["mentions"].append(mentioned)
        if guild is not None:
            data["guild_id"] = str(guild.id)
            if msg.author_id in guild.members and msg.webhook_id is None:
                data["member"] = guild.members[msg.author_id].to_json()
        if msg.reference_id is not None:
            ref = self.messages.get(msg.reference_id)
            data["type"] = 19 if msg.type == 0 else msg.type  # REPLY
            data["message_reference"] = {
                "type": 0,
                "message_id": str(msg.reference_id),
                "channel_id": str(msg.channel_id),
                **({"guild_id": str(msg.guild_id)} if msg.guild_id else {}),
            }
            if with_reference:
                data["referenced_message"] = (
                    self.message_json(ref.id, with_reference=False) if ref is not None else None
                )
        return data

    def add_message(self, msg: Message) -> None:
        self.messages[msg.id] = msg
        self.channel_messages.setdefault(msg.channel_id, []).append(msg.id)
        channel = self.channels.get(msg.channel_id)
        if channel is not None:
            channel.last_message_id = msg.id

    def delete_message(self, message_id: int) -> Message | None:
        msg = self.messages.pop(message_id, None)
        if msg is not None:
            ids = self.channel_messages.get(msg.channel_id, [])
            if message_id in ids:
                ids.remove(message_id)
        return msg

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
        # created_at is encoded into the snowflake: discord.py derives User.created_at from the id
        user_id = self.new_id(created_at)
        flags = public_flags | (SPAMMER_FLAG if spammer else 0)
        self.users[user_id] = User(user_id, username, global_name, bot, avatar, flags, dms_closed)
        return user_id

    def dm_channel(self, user_id: int) -> Channel:
        """The bot's DM channel with a user (created on first use, as POST /users/@me/channels)."""
        existing = self.dm_by_user.get(user_id)
        if existing is not None:
            return self.channels[existing]
        channel = Channel(self.new_id(), 1, None, None, recipient_id=user_id)
        self.channels[channel.id] = channel
        self.dm_by_user[user_id] = channel.id
        return channel

    def new_id(self, at: datetime | None = None) -> int:
        return self.ids.next(at)

    def now(self) -> datetime:
        return now()
