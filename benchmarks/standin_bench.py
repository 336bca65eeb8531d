"""How fast the stand-in feeds one bare discord.py client.

    python -m benchmarks.standin_bench [--events 20000] [--requests 2000] [--runs 3]

Gateway: N GUILD_MEMBER_ADD pushed by the stand-in, counted in the client's on_member_join
until all arrived (events/s). REST: role PUTs for one guild (one discord.py bucket, so they are
serialized by its lock) and GET /users/{id}, issued concurrently through discord.py's HTTPClient
with no rate limits (requests/s). Each is measured with the stand-in in its own process
(`followback standin`, driven over /_standin/) and in the client's process (one event loop for
both). Medians of runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import discord

from bot.client.target import point_discord_at, reset_discord_target
from bot.standin import StandIn

TOKEN = "bench-token"


class Counter(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(
            intents=intents,
            guild_ready_timeout=0.05,
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.all(),
        )
        self.joined = 0
        self.target = 0
        self.done = asyncio.Event()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_member_join(self, member: discord.Member) -> None:
        self.joined += 1
        if self.joined >= self.target:
            self.done.set()


@dataclass
class Setup:
    client: Counter
    base_url: str
    guild_id: int
    role_id: int
    member_id: int


@asynccontextmanager
async def stand_in(separate: bool) -> AsyncIterator[str]:
    """Yields the base URL of a stand-in seeded with the sample guild."""
    if not separate:
        standin = StandIn(token=TOKEN, rate_limit_scale=0)  # measure the stand-in, not its pacing
        standin.seed_sample()
        await standin.start()
        try:
            yield standin.base_url
        finally:
            await standin.stop()
        return
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "standin", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        base_url = line.split("standin ready: ", 1)[1].strip()
        async with aiohttp.ClientSession() as http:  # measure the stand-in, not its pacing
            await http.post(f"{base_url}/_standin/clear_rate_limits", json={})
        yield base_url
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 10)


@asynccontextmanager
async def connected(separate: bool) -> AsyncIterator[Setup]:
    async with stand_in(separate) as base_url:
        point_discord_at(base_url)
        client = Counter()
        task = asyncio.create_task(client.start(TOKEN))
        try:
            await asyncio.wait_for(client.wait_until_ready(), 30)
            guild = client.guilds[0]
            role = discord.utils.get(guild.roles, name="Mutuals")
            member = next(m for m in guild.members if not m.bot and m.id != guild.owner_id)
            assert role is not None
            yield Setup(client, base_url, guild.id, role.id, member.id)
        finally:
            await client.close()
            await asyncio.wait_for(task, 10)
            reset_discord_target()


async def gateway_run(events: int, separate: bool) -> float:
    async with connected(separate) as setup, aiohttp.ClientSession() as http:
        setup.client.target = events
        body = {"guild_id": str(setup.guild_id), "n": events}
        started = time.perf_counter()
        async with http.post(f"{setup.base_url}/_standin/join_many", json=body) as resp:
            assert resp.status == 200, await resp.text()
        await asyncio.wait_for(setup.client.done.wait(), 120)
        return events / (time.perf_counter() - started)


async def rest_run(requests: int, separate: bool) -> tuple[float, float]:
    async with connected(separate) as setup:
        http = setup.client.http
        started = time.perf_counter()
        await asyncio.gather(
            *(
                http.add_role(setup.guild_id, setup.member_id, setup.role_id)
                for _ in range(requests)
            )
        )
        roles = requests / (time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*(http.get_user(setup.member_id) for _ in range(requests)))
        users = requests / (time.perf_counter() - started)
        return roles, users


def _line(label: str, rates: list[float], unit: str) -> str:
    runs = ", ".join(f"{r:,.0f}" for r in rates)
    return f"  {label:<44} median {statistics.median(rates):>8,.0f} {unit}  (runs: {runs})"


async def main(events: int, requests: int, runs: int) -> None:
    logging.getLogger("discord").setLevel(logging.ERROR)
    print(f"gateway: {events:,} GUILD_MEMBER_ADD to one bare discord.py client")
    for separate, where in ((True, "stand-in in its own process"), (False, "same process")):
        rates = [await gateway_run(events, separate) for _ in range(runs)]
        print(_line(where, rates, "events/s"), flush=True)
    print(f"rest: {requests:,} concurrent requests via discord.py's HTTPClient, no rate limits")
    for separate, where in ((True, "own process"), (False, "same process")):
        rest = [await rest_run(requests, separate) for _ in range(runs)]
        print(_line(f"role PUT, one guild bucket ({where})", [r for r, _ in rest], "req/s"))
        print(_line(f"GET /users/{{id}} ({where})", [u for _, u in rest], "req/s"), flush=True)


def cli() -> None:
    parser = argparse.ArgumentParser(description="stand-in throughput for a bare discord.py")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.requests, args.runs))


if __name__ == "__main__":
    cli()
