"""The scale benchmark's bare client: discord.py and nothing else, in its own process.

    python -m benchmarks._scale_bare URL GUILD_ID

The bot's intents (guilds, members, guild_messages, message_content) and discord.py's
defaults for everything else: the member cache, chunking at start-up, the ready timeout
(the bot's `run` sets none of them either). It prints "bare ready: <members cached>" on
`on_ready` once the guild is chunked, counts joins and leaves, and runs until SIGTERM.
Only discord.py is imported (and the stand-in's URL switch), so its memory is the floor.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import discord

from bot.client.target import point_discord_at

TOKEN = "scale-bench-token"  # the stand-in accepts any token


def intents() -> discord.Intents:
    """The same flags as bot.client.bot.make_intents (not imported: it pulls in the bot)."""
    flags = discord.Intents.none()
    flags.guilds = True
    flags.members = True
    flags.guild_messages = True
    flags.message_content = True
    return flags


class Bare(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none())
        self.guild_id = guild_id
        self.joins = 0
        self.leaves = 0

    async def on_ready(self) -> None:
        guild = self.get_guild(self.guild_id)
        if guild is None or not guild.chunked:
            print(f"bare not chunked: {guild!r}", flush=True)
            return
        print(f"bare ready: {len(guild.members)}", flush=True)

    async def on_member_join(self, member: discord.Member) -> None:
        self.joins += 1

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        self.leaves += 1


async def main(url: str, guild_id: int) -> int:
    point_discord_at(url)
    client = Bare(guild_id)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with client:
        task = asyncio.create_task(client.start(TOKEN))
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        print(f"bare stopping: {client.joins} joins, {client.leaves} leaves", flush=True)
        await client.close()
        waiter.cancel()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
