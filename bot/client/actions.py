"""The outbox's hands on Discord: role changes and messages, errors turned into codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord

from bot.service.actions import ActionFailed

T = TypeVar("T")
NO_PINGS = discord.AllowedMentions.none()


class DiscordActions:
    """Implements bot.service.actions.ActionGateway with discord.py's HTTP client."""

    def __init__(self, client: discord.Client, expect_role_change: Callable[[int, int], None]):
        self._client = client
        # The echo of our own role change must not look like the owner's hand.
        self._expect_role_change = expect_role_change

    async def add_role(self, guild_id: int, user_id: int, role_id: int, reason: str) -> None:
        self._expect_role_change(guild_id, user_id)
        await _call(self._client.http.add_role(guild_id, user_id, role_id, reason=reason))

    async def remove_role(self, guild_id: int, user_id: int, role_id: int, reason: str) -> None:
        self._expect_role_change(guild_id, user_id)
        await _call(self._client.http.remove_role(guild_id, user_id, role_id, reason=reason))

    async def has_role(self, guild_id: int, user_id: int, role_id: int) -> bool:
        data = await _call(self._client.http.get_member(guild_id, user_id))
        return str(role_id) in data.get("roles", [])

    async def send_dm(self, user_id: int, text: str, nonce: str) -> int:
        channel = await _call(self._client.create_dm(discord.Object(id=user_id)))
        message = await _call(channel.send(text, nonce=nonce, allowed_mentions=NO_PINGS))
        return message.id

    async def send_reply(
        self, channel_id: int, message_id: int, text: str, nonce: str, *, silent: bool = False
    ) -> int:
        channel = self._client.get_partial_messageable(channel_id)
        # A reply to a message deleted meanwhile is refused (recorded), never posted bare.
        reference = discord.MessageReference(
            message_id=message_id, channel_id=channel_id, fail_if_not_exists=True
        )
        message = await _call(
            channel.send(
                text,
                nonce=nonce,
                reference=reference,
                allowed_mentions=NO_PINGS,
                mention_author=False,
                silent=silent,
            )
        )
        return message.id


async def _call(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except discord.HTTPException as exc:
        retry_after = getattr(exc, "retry_after", None)
        raise ActionFailed(exc.status, exc.code or None, exc.text, retry_after) from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ActionFailed(0, None, repr(exc)) from exc
