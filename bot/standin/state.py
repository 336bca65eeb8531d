"""The stand-in's world (users, guilds, roles, channels, members, messages) and its JSON shapes.

Shapes follow Discord's API v10 documentation; they are written out by hand (no discord.py
imports) so that discord.py's parsing is really exercised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.standin.snowflake import Snowflakes, iso, now, snowflake_time

Json = dict[str, Any]

SPAMMER_FLAG = 1 << 20
# permission bits the bot's managed role gets: view, send, embed, attach, history, manage roles...
BOT_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 28) | (1 << 13)
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 16) | (1 << 31) | (1 << 6)
OWNER_PERMISSIONS = (1 << 53) - 1


@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    public_flags: int = 0
    dms_closed: bool = False

    def to_json(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "public_flags": self.public_flags,
            "flags": self.public_flags,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def created_at(self) -> datetime:
        return snowflake_time(self.id)


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    position: int
    permissions: int = 0
    managed: bool = False
    color: int = 0
    bot_id: int | None = None

    def to_json(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Channel:
    id: int
    type: int  # 0 guild text, 1 DM
    name: str | None = None
    guild_id: int | None = None
    position: int = 0
    recipient_id: int | None = None
    last_message_id: int | None = None
    # target id -> (type 0 role / 1 member, allow, deny), as in permission_overwrites
    overwrites: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    def to_json(self, users: dict[int, User] | None = None) -> Json:
        last = str(self.last_message_id) if self.last_message_id else None
        if self.type == 1:
            recipients = []
            if users is not None and self.recipient_id in users:
                recipients = [users[self.recipient_id].to_json()]
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": last,
                "recipients": recipients,
                "flags": 0,
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [
                {"id": str(target), "type": kind, "allow": str(allow), "deny": str(deny)}
                for target, (kind, allow, deny) in self.overwrites.items()
            ],
            "topic": None,
            "nsfw": False,
            "parent_id": None,
            "last_message_id": last,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass
class Member:
    user_id: int
    guild_id: int
    joined_at: datetime
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    pending: bool = False
    flags: int = 0

    def to_json(self, user: User | None = None) -> Json:
        data: Json = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": self.flags,
            "pending": self.pending,
            "communication_disabled_until": None,
        }
        if user is not None:
            data["user"] = user.to_json()
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    screening: bool = False
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    commands: dict[int, Json] = field(default_factory=dict)
    ever_joined: set[int] = field(default_factory=set)  # for the DID_REJOIN member flag

    def base_json(self) -> Json:
        features = ["MEMBER_VERIFICATION_GATE_ENABLED"] if self.screening else []
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.to_json() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": features,
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
        }


@dataclass
class Message:
    id: int
    channel_id: int
    author_id: int
    content: str
    guild_id: int | None = None
    nonce: str | int | None = None
    tts: bool = False
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[Json] = field(default_factory=list)
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    reference_id: int | None = None
    allowed_mentions: Json | None = None
    flags: int = 0
    edited_at: datetime | None = None
    webhook_id: int | None = None
    interaction_id: int | None = None
    type: int = 0
    reactions: dict[str, list[int]] = field(default_factory=dict)  # emoji -> user ids

    @property
    def timestamp(self) -> datetime:
        return snowflake_time(self.id)


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
                _reaction_json(emoji, users, self.bot_user_id)
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

    def new_id(self, at: datetime | None = None) -> int:
        return self.ids.next(at)

    def now(self) -> datetime:
        return now()


def emoji_json(emoji: str) -> Json:
    """'👍' or 'name:id' (custom emoji, as in Discord's reaction URLs)."""
    name, _, eid = emoji.partition(":")
    return {"id": eid or None, "name": name}


def _reaction_json(emoji: str, users: list[int], bot_id: int) -> Json:
    return {
        "emoji": emoji_json(emoji),
        "count": len(users),
        "count_details": {"burst": 0, "normal": len(users)},
        "me": bot_id in users,
        "me_burst": False,
        "burst_colors": [],
    }
