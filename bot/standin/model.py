"""The stand-in's records (users, guilds, roles, channels, members, messages) and their JSON.

Shapes follow Discord's API v10 documentation; they are written out by hand (no discord.py
imports) so that discord.py's parsing is really exercised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.standin.snowflake import iso, snowflake_time

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


def emoji_json(emoji: str) -> Json:
    """'👍' or 'name:id' (custom emoji, as in Discord's reaction URLs)."""
    name, _, eid = emoji.partition(":")
    return {"id": eid or None, "name": name}


def reaction_json(emoji: str, users: list[int], bot_id: int) -> Json:
    return {
        "emoji": emoji_json(emoji),
        "count": len(users),
        "count_details": {"burst": 0, "normal": len(users)},
        "me": bot_id in users,
        "me_burst": False,
        "burst_colors": [],
    }
