"""How fast the stand-in feeds one bare discord.py client.

    python -m benchmarks.standin_bench [--events 20000] [--requests 2000] [--runs 3]

Gateway: N GUILD_MEMBER_ADD pushed by the stand-in, counted in the client's on_member_join
until all arrived (events/s). REST: role PUTs for one guild and GET /users/{id}, issued
concurrently through discord.py's HTTPClient with no rate limits (requests/s). Medians of runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import statistics
import sys
import time

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
            chunk_guilds_at_startup=False,
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


async def _connected(standin: StandIn) -> tuple[Counter, asyncio.Task[None]]:
    point_discord_at(standin.base_url)
    client = Counter()
    task = asyncio.create_task(client.start(TOKEN))
    await asyncio.wait_for(client.wait_until_ready(), 30)
    return client, task


async def _close(client: Counter, task: asyncio.Task[None]) -> None:
    await client.close()
    await asyncio.wait_for(task, 10)


async def gateway_run(events: int) -> float:
    """Stand-in and client in one process (one event loop shares one core)."""
    standin = StandIn(token=TOKEN)
    guild_id = standin.add_guild("Bench")
    await standin.start()
    client, task = await _connected(standin)
    try:
        client.target = events
        started = time.perf_counter()
        await standin.join_many(guild_id, events)
        await asyncio.wait_for(client.done.wait(), 120)
        elapsed = time.perf_counter() - started
    finally:
        await _close(client, task)
        await standin.stop()
        reset_discord_target()
    return events / elapsed


async def gateway_run_subprocess(events: int) -> float:
    """The stand-in as `followback standin` in its own process, driven over /_standin/."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "standin", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        base = line.split("standin ready: ", 1)[1].strip()
        point_discord_at(base)
        client = Counter()
        task = asyncio.create_task(client.start(TOKEN))
        await asyncio.wait_for(client.wait_until_ready(), 30)
        try:
            guild_id = client.guilds[0].id
            client.target = events
            async with aiohttp.ClientSession() as http:
                started = time.perf_counter()
                body = {"guild_id": str(guild_id), "n": events}
                async with http.post(f"{base}/_standin/join_many", json=body) as resp:
                    assert resp.status == 200, await resp.text()
                await asyncio.wait_for(client.done.wait(), 120)
                elapsed = time.perf_counter() - started
        finally:
            await _close(client, task)
            reset_discord_target()
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 10)
    return events / elapsed


async def rest_run(requests: int) -> tuple[float, float]:
    standin = StandIn(token=TOKEN)
    world = standin.seed_sample()
    await standin.start()
    client, task = await _connected(standin)
    http = client.http
    try:
        uid = world.member_ids[0]
        started = time.perf_counter()
        await asyncio.gather(
            *(
                http.add_role(world.guild_id, uid, world.follow_back_role_id)
                for _ in range(requests)
            )
        )
        roles = requests / (time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*(http.get_user(uid) for _ in range(requests)))
        users = requests / (time.perf_counter() - started)
    finally:
        await _close(client, task)
        await standin.stop()
        reset_discord_target()
    return roles, users


async def main(events: int, requests: int, runs: int) -> None:
    logging.getLogger("discord").setLevel(logging.ERROR)
    split = [await gateway_run_subprocess(events) for _ in range(runs)]
    event_rates = [await gateway_run(events) for _ in range(runs)]
    rest = [await rest_run(requests) for _ in range(runs)]
    print(f"gateway: {events} GUILD_MEMBER_ADD to one bare discord.py client")
    print(
        f"  stand-in in its own process: events/s median {statistics.median(split):,.0f}  runs "
        + ", ".join(f"{r:,.0f}" for r in split)
    )
    print("  stand-in in the client's process (shared event loop):")
    print(
        f"  events/s median {statistics.median(event_rates):,.0f}  runs "
        + ", ".join(f"{r:,.0f}" for r in event_rates)
    )
    role_rates = [r for r, _ in rest]
    user_rates = [u for _, u in rest]
    print(f"rest: {requests} concurrent requests through discord.py's HTTPClient, no rate limits")
    print(
        f"  role PUT (one guild bucket) req/s median {statistics.median(role_rates):,.0f}  runs "
        + ", ".join(f"{r:,.0f}" for r in role_rates)
    )
    print(
        f"  GET /users/{{id}} req/s median {statistics.median(user_rates):,.0f}  runs "
        + ", ".join(f"{r:,.0f}" for r in user_rates)
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.requests, args.runs))


if __name__ == "__main__":
    cli()
