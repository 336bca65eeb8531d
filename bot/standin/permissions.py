"""Channel permissions as topics/permissions.mdx computes them: base permissions from the roles,
then the @everyone, role and member overwrites of the channel (`compute_overwrites`)."""

from __future__ import annotations

from bot.standin.httpkit import ApiError
from bot.standin.state import Channel, World

ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
READ_MESSAGE_HISTORY = 1 << 16
ALL = (1 << 53) - 1
ROLE, MEMBER = 0, 1


def channel_permissions(world: World, channel: Channel, user_id: int) -> int:
    """What `user_id` may do in a guild channel (everything in a DM)."""
    if channel.guild_id is None:
        return ALL
    guild = world.guilds[channel.guild_id]
    base = world.member_permissions(guild.id, user_id)
    if base & ADMINISTRATOR or user_id == guild.owner_id:
        return ALL
    overwrites = channel.overwrites
    perms = base
    everyone = overwrites.get(guild.id)
    if everyone is not None:
        perms = (perms & ~everyone[2]) | everyone[1]
    member = guild.members.get(user_id)
    allow = deny = 0
    for role_id in member.roles if member else []:
        overwrite = overwrites.get(role_id)
        if overwrite is not None and overwrite[0] == ROLE:
            allow |= overwrite[1]
            deny |= overwrite[2]
    perms = (perms & ~deny) | allow
    own = overwrites.get(user_id)
    if own is not None and own[0] == MEMBER:
        perms = (perms & ~own[2]) | own[1]
    if not perms & VIEW_CHANNEL:
        return 0  # "Denying ... VIEW_CHANNEL on a channel implicitly denies other permissions"
    return perms


def check_can_post(world: World, channel: Channel, user_id: int, *, tts: bool, reply: bool) -> None:
    """resources/message.mdx "Create Message" limitations: SEND_MESSAGES (and SEND_TTS_MESSAGES
    for tts, READ_MESSAGE_HISTORY for a reply); a channel the user cannot see is 50001."""
    perms = channel_permissions(world, channel, user_id)
    if not perms & VIEW_CHANNEL:
        raise ApiError(403, 50001, "Missing Access")
    needed = SEND_MESSAGES
    needed |= SEND_TTS_MESSAGES if tts else 0
    needed |= READ_MESSAGE_HISTORY if reply else 0
    if perms & needed != needed:
        raise ApiError(403, 50013, "Missing Permissions")


def check_can_read(world: World, channel: Channel, user_id: int) -> None:
    if not channel_permissions(world, channel, user_id) & VIEW_CHANNEL:
        raise ApiError(403, 50001, "Missing Access")
