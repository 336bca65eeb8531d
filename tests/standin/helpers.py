"""A bare discord.py client for exercising the stand-in (no Followback code)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.ext import commands

TOKEN = "standin-test-token"


def all_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    return intents


class BareClient(commands.Bot):
    """A plain discord.py bot (no Followback code) that records every event it sees."""

    def __init__(self, intents: discord.Intents, **options: Any) -> None:
        options.setdefault("guild_ready_timeout", 0.05)
        super().__init__(
            command_prefix="!",
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **options,
        )
        self.seen: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self._changed = asyncio.Event()
        self.setup: Callable[[BareClient], Awaitable[None]] | None = None

    async def setup_hook(self) -> None:
        if self.setup is not None:
            await self.setup(self)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py sleeps 5 s before re-identifying; tests don't

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        self.seen[event_name].append(args)
        self._changed.set()
        super().dispatch(event_name, *args, **kwargs)

    async def wait_seen(self, event: str, count: int = 1, timeout: float = 5.0) -> list[Any]:
        async def waiter() -> list[Any]:
            while len(self.seen[event]) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.seen[event]

        return await asyncio.wait_for(waiter(), timeout)
