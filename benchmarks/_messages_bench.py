"""`pipeline_bench --messages`: 10,000 messages, 10% of them mentions of the owner, through
the bot and through a bare discord.py client, on the same stream in the same run.

* Burst. The stand-in process posts `--messages-n` messages in #general from the sample
  guild's three members, every tenth naming the owner, as fast as it can (a loop inside
  the stand-in process). Per side: messages/s (bare: to the last `on_message`; bot: to
  the last message seen *and* every mention stored with its decision, the commit
  returned) and CPU seconds per 1,000 messages (`time.process_time()`: every thread of
  this process). The bot answers with the policy's default wait (`reply_after: 2m`), so
  replies are timers, as in real use. Ratio bot/bare per run, median over `--runs`, the
  order of the sides alternating.
* Latency. The stand-in paces messages at `--messages-rate` (200/s) for
  `--latency-seconds`; the bot's policy answers at once (`reply_after: 0s`, no cooldown,
  a large channel budget), so every mention gets a reply row. Mention -> reply row stored
  = when `queue_mention_reply` returned after its commit (wall clock, this process) minus
  the message's snowflake time (stamped by the stand-in, real UTC). The bare client's
  message -> `on_message` is printed beside it as the floor.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from bot.app import Running, start_bot
from bot.client.bot import make_intents
from bot.client.target import point_discord_at, reset_discord_target
from bot.settings import Settings

TOKEN = "bench-token"
MENTION_EVERY = 10  # 10% of the messages name the owner
POLICY = """\
version: 1
owner: {{timezone: UTC}}
follow_back: {{role: Mutuals}}
replies:
  thank: ["Thanks for the mention, {{name}}!", "Appreciate it, {{name}}!"]
  polite: ["Thanks for asking, {{name}}!"]
rules:
  - {{name: everyone, then: ignore}}
mentions:
  - {{name: bots, when: {{bot: true}}, then: ignore}}
  - name: asks
    when: {{text_matches: "(?i)follow\\\\s*(me\\\\s*)?back"}}
    then: {{reply: polite}}
  - {{name: everyone, then: {{reply: thank}}}}
replying: {{reply_after: {wait}, channel_budget: 1000}}
limits: {{reply_cooldown: {cooldown}}}
"""
BURST_POLICY = POLICY.format(wait="2m", cooldown="24h")  # real use: replies wait
LATENCY_POLICY = POLICY.format(wait="0s", cooldown="0s")  # every mention answered at once


# --- the stand-in side: messages posted from inside its own process -----------------------


def add_message_routes(standin: Any, app: Any) -> None:
    """POST /_bench/messages {channel_id, authors, owner_id, n, rate|null}: post n messages,
    every tenth naming the owner, at `rate` per second (null: as fast as possible)."""
    from aiohttp import web

    tasks: set[asyncio.Task[None]] = set()

    async def post(channel_id: int, authors: list[int], owner: int, n: int, rate: float) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(n):
            if rate:
                delay = start + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            text = f"<@{owner}> loved it ({i})" if i % MENTION_EVERY == 0 else f"chat {i}"
            await standin.say(channel_id, authors[i % len(authors)], text)

    async def messages(request: web.Request) -> web.Response:
        body = await request.json()
        task = asyncio.create_task(
            post(
                int(body["channel_id"]),
                [int(a) for a in body["authors"]],
                int(body["owner_id"]),
                int(body["n"]),
                float(body.get("rate") or 0.0),
            )
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.json_response({"ok": True})

    app.router.add_post("/_bench/messages", messages)


# --- this process: the two clients ----------------------------------------------------------


@dataclass
class World:
    guild_id: int
    channel_id: int
    owner_id: int
    authors: list[int]


async def new_world(standin: Any) -> World:
    world = await standin.call("seed_sample")
    return World(
        int(world["guild_id"]),
        int(world["general_channel_id"]),
        int(world["owner_id"]),
        [int(m) for m in world["member_ids"]],
    )


async def post(standin: Any, world: World, n: int, rate: float | None) -> None:
    await standin.bench(
        "POST",
        "messages",
        channel_id=str(world.channel_id),
        authors=[str(a) for a in world.authors],
        owner_id=str(world.owner_id),
        n=n,
        rate=rate,
    )


class BareReader(discord.Client):
    """A discord.py client with the bot's intents that only counts messages."""

    def __init__(self, channel_id: int) -> None:
        super().__init__(
            intents=make_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
        )
        self.channel_id = channel_id
        self.count = 0
        self.target = 0
        self.latencies: list[float] = []
        self.done = asyncio.Event()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_message(self, message: discord.Message) -> None:
        if message.channel.id != self.channel_id:
            return
        if message.mentions:
            self.latencies.append(time.time() - message.created_at.timestamp())
        self.count += 1
        if self.count >= self.target:
            self.done.set()


@asynccontextmanager
async def bare_reader(standin: Any, world: World) -> AsyncIterator[BareReader]:
    point_discord_at(standin.base_url)
    client = BareReader(world.channel_id)
    task = asyncio.create_task(client.start(TOKEN))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 60)
        yield client
    finally:
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        reset_discord_target()


class MentionTap:
    """Counts messages handled (their activity count committed) and mentions stored; times
    each reply row's commit. Wrappers on the bot's Store: no extra listener per message."""

    def __init__(self, running: Running, channel_id: int) -> None:
        self.channel_id = channel_id
        self.messages = self.mentions = self.target = 0
        self.reply_latencies: list[float] = []
        self.done = asyncio.Event()
        self.replies_done = asyncio.Event()
        store = running.store
        inner_store, inner_reply = store.decide_and_store_mention, store.queue_mention_reply
        inner_bump = store.bump_activities

        async def bump_activities(bumps: list[tuple[int, int, dict[str, int]]]) -> None:
            # Messages' activity counts committed: the last step of a plain message.
            await inner_bump(bumps)
            self.messages += sum(counts.get("messages", 0) for _, _, counts in bumps)
            self._check()

        async def store_mention(item: Any, *args: Any) -> Any:
            stored = await inner_store(item, *args)
            self.mentions += 1
            self._check()
            return stored

        async def queue_reply(mention: Any, *args: Any) -> Any:
            queued = await inner_reply(mention, *args)
            created = discord.utils.snowflake_time(mention.message_id).timestamp()
            self.reply_latencies.append(time.time() - created)
            if len(self.reply_latencies) >= -(-self.target // MENTION_EVERY):
                self.replies_done.set()
            return queued

        store.decide_and_store_mention = store_mention  # type: ignore[method-assign,assignment]
        store.queue_mention_reply = queue_reply  # type: ignore[method-assign,assignment]
        store.bump_activities = bump_activities  # type: ignore[method-assign]

    def _check(self) -> None:
        mentions = -(-self.target // MENTION_EVERY)
        if self.target and self.messages >= self.target and self.mentions >= mentions:
            self.done.set()

    def arm(self, target: int) -> None:
        self.messages = self.mentions = 0
        self.target = target
        self.done.clear()


@asynccontextmanager
async def bot_reader(
    standin: Any, world: World, policy_text: str, workdir: Path
) -> AsyncIterator[tuple[Running, MentionTap]]:
    point_discord_at(standin.base_url)
    policy = workdir / f"policy-{world.guild_id}.yaml"
    policy.write_text(policy_text, encoding="utf-8")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        policy=policy,
        database=workdir / f"bot-{world.guild_id}.sqlite3",
        owner_id=world.owner_id,
        guild_ids=[world.guild_id],
    )
    running = await start_bot(
        settings, TOKEN, watch_policy=False, guild_ready_timeout=0.05, ready_timeout=60
    )
    try:
        await running.followers.flush()
        yield running, MentionTap(running, world.channel_id)
    finally:
        await running.stop()
        reset_discord_target()


@dataclass
class Burst:
    side: str
    messages: int
    seconds: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_per_1k(self) -> float:
        return self.cpu / self.messages * 1000


async def burst_bare(standin: Any, n: int) -> Burst:
    world = await new_world(standin)
    async with bare_reader(standin, world) as client:
        client.target = n
        t0, c0 = time.perf_counter(), time.process_time()
        await post(standin, world, n, None)
        await asyncio.wait_for(client.done.wait(), 600)
        t1, c1 = time.perf_counter(), time.process_time()
    return Burst("bare", n, t1 - t0, c1 - c0)


async def burst_bot(standin: Any, n: int, workdir: Path) -> Burst:
    world = await new_world(standin)
    async with bot_reader(standin, world, BURST_POLICY, workdir) as (running, tap):
        tap.arm(n)
        t0, c0 = time.perf_counter(), time.process_time()
        await post(standin, world, n, None)
        await asyncio.wait_for(tap.done.wait(), 600)
        t1, c1 = time.perf_counter(), time.process_time()
        stored = await running.store.mentions_in(world.guild_id)
        assert len(stored) == -(-n // MENTION_EVERY), len(stored)
    return Burst("bot", n, t1 - t0, c1 - c0)


def p(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def latency_bot(standin: Any, n: int, rate: float, workdir: Path) -> list[float]:
    world = await new_world(standin)
    async with bot_reader(standin, world, LATENCY_POLICY, workdir) as (_, tap):
        tap.arm(n)
        await post(standin, world, n, rate)
        await asyncio.wait_for(tap.done.wait(), 600)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tap.replies_done.wait(), 30)
        return tap.reply_latencies


async def latency_bare(standin: Any, n: int, rate: float) -> list[float]:
    world = await new_world(standin)
    async with bare_reader(standin, world) as client:
        client.target = n
        await post(standin, world, n, rate)
        await asyncio.wait_for(client.done.wait(), 600)
        return client.latencies


async def messages_main(args: Any, standin_process: Any) -> int:
    """The messages mode of pipeline_bench; `standin_process` starts a stand-in process."""
    n, runs, rate = args.messages_n, args.runs, args.messages_rate
    print(
        f"messages bench: {n:,} messages ({100 // MENTION_EVERY}% mentions) x {runs} runs; "
        f"latency {rate:g}/s for {args.latency_seconds:g}s",
        flush=True,
    )
    ratios: list[float] = []
    bots: list[Burst] = []
    bares: list[Burst] = []
    with tempfile.TemporaryDirectory(prefix="messages-bench-") as tmp:
        workdir = Path(tmp)
        async with standin_process() as standin:  # warm-up: first use of everything
            await burst_bare(standin, max(n // 10, 100))
            await burst_bot(standin, max(n // 10, 100), workdir)
        for run in range(runs):
            async with standin_process() as standin:
                sides = ("bare", "bot") if run % 2 == 0 else ("bot", "bare")
                done: dict[str, Burst] = {}
                for side in sides:
                    if side == "bare":
                        done[side] = await burst_bare(standin, n)
                    else:
                        done[side] = await burst_bot(standin, n, workdir)
                bares.append(done["bare"])
                bots.append(done["bot"])
                ratios.append(done["bot"].cpu_per_1k / done["bare"].cpu_per_1k)
                print(
                    f"  run {run + 1}: bare {done['bare'].rate:,.0f} msg/s "
                    f"{done['bare'].cpu_per_1k:.3f} CPU s/1k; bot {done['bot'].rate:,.0f} msg/s "
                    f"{done['bot'].cpu_per_1k:.3f} CPU s/1k; ratio {ratios[-1]:.2f}",
                    flush=True,
                )
        count = int(rate * args.latency_seconds)
        async with standin_process() as standin:
            bot_lat = await latency_bot(standin, count, rate, workdir)
            bare_lat = await latency_bare(standin, count, rate)
    ratio = statistics.median(ratios)
    p99 = p(bot_lat, 0.99)
    print(
        f"burst: bare {statistics.median(b.rate for b in bares):,.0f} msg/s, "
        f"{statistics.median(b.cpu_per_1k for b in bares):.3f} CPU s/1k; "
        f"bot {statistics.median(b.rate for b in bots):,.0f} msg/s, "
        f"{statistics.median(b.cpu_per_1k for b in bots):.3f} CPU s/1k"
    )
    print(f"CPU ratio bot/bare (median of {runs}): {ratio:.2f} (goal <= 2.0) {_ok(ratio <= 2.0)}")
    print(
        f"mention -> reply row stored at {rate:g} msg/s: {len(bot_lat)} mentions, "
        f"p50 {p(bot_lat, 0.5):.1f} ms, p99 {p99:.1f} ms, max {max(bot_lat) * 1000:.1f} ms "
        f"(goal p99 <= 50 ms) {_ok(p99 <= 50)}; bare message -> on_message p99 "
        f"{p(bare_lat, 0.99):.1f} ms"
    )
    return 0 if ratio <= 2.0 and p99 <= 50 else 1


def _ok(ok: bool) -> str:
    return "OK" if ok else "MISSED"
