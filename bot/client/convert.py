"""discord.py objects turned into the plain data the services take."""

from __future__ import annotations

import re

import discord

from bot.store import UserInfo

LINK = re.compile(r"https?://\S+", re.IGNORECASE)
INVITE = re.compile(r"(?:discord\.gg|discord(?:app)?\.com/invite)/\S+", re.IGNORECASE)
MASS_PING = re.compile(r"(?<![\w.@])@(?:everyone|here)\b")  # not inside an address


def user_info(member: discord.Member | discord.User) -> UserInfo:
    return UserInfo(
        user_id=member.id,
        username=member.name,
        global_name=member.global_name,
        nick=getattr(member, "nick", None),
        bot=member.bot,
        spammer=member.public_flags.spammer,
        default_avatar=member.avatar is None,
        created_at=member.created_at,
    )


def role_names(member: discord.Member) -> frozenset[str]:
    """Roles as names and ids, so a policy may name either."""
    names = {role.name for role in member.roles if not role.is_default()}
    ids = {str(role.id) for role in member.roles if not role.is_default()}
    return frozenset(names | ids)


def message_counters(message: discord.Message) -> dict[str, int]:
    content = message.content or ""
    return {
        "links": len(LINK.findall(content)),
        "invites": len(INVITE.findall(content)),
        "attachments": len(message.attachments),
        "everyone_pings": len(MASS_PING.findall(content)),
    }
