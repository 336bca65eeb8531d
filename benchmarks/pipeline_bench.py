"""10,000 joins into the running bot, beside a bare discord.py client (issue #5, "Measure").

    python -m benchmarks.pipeline_bench [--joins 10000] [--runs 3] [--quick] [--profile FILE]
    python -m benchmarks.pipeline_bench --messages [--quick]   # mentions (issue 11):
                                                   # see benchmarks/_messages_bench.py

What it measures, all against one stand-in implementation driven over HTTP:

* Burst. The stand-in pushes `--joins` GUILD_MEMBER_ADD (its `join_many`) to a bare
  `discord.Client` that only counts `on_member_join`, then the same burst to the bot
  (`bot.app.start_bot`, fresh SQLite file, `--policy`, default `policies/busy-creator.yaml`,
  the largest example). Per side: events/s (bare: to the last `on_member_join`; bot: to
  the last decision *stored*, i.e. `Store.record_decisions` returned after its commit),
  and CPU seconds per 1,000 events (`time.process_time()`, which counts every thread of
  this process, aiosqlite's included; the event-loop thread's share, `time.thread_time()`,
  is printed beside it). The ratio bot/bare is taken per run (the pair
  shares one stand-in process), then the median over `--runs`; the order of the two
  sides alternates between runs; an uncounted warm-up burst (`--warmup`) comes first.
* Latency. The stand-in paces joins at `--rate` per second for `--latency-seconds`
  (a timer loop inside the stand-in process, so pacing costs the bot's process nothing).
  Join-to-decision = the moment the bot's decision commit returned (wall clock, this
  process) minus `joined_at` (stamped by the stand-in when it dispatches the join, real
  UTC; the bot runs on the real clock here). The bare client's join-to-`on_member_join`
  on the same kind of stream is printed beside it as the floor.
* Drain. A bot whose policy follows everyone back at once (a temporary policy file:
  one catch-all `follow_back` rule) gets `--drain-roles` joins while the stand-in
  allows N role PUTs per `--window` seconds on
  `PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}` (fixed windows, 429 with
  Discord's headers beyond). The stand-in's own request log gives the time from the
  first role PUT to the last accepted (204) one. With fixed windows the ideal is
  (ceil(roles / N) - 1) windows for that span; drain = ideal / measured, i.e. the
  fraction of the allowed rate achieved. Beside it, a bare discord.py client sends the
  same PUTs the way the bot's outbox does (batches of 200, 16 at a time): the share of
  lost time that belongs to discord.py's bucket handling rather than to the bot.

Why this shape:

* The stand-in runs in its own process (this module with `--serve-standin`: the stock
  `StandIn` plus two benchmark-only endpoints under `/_bench/`, paced joins and a cheap
  role-PUT tally), so this process's CPU time is the client side only. A fresh stand-in
  process serves each run; every phase gets a fresh copy of the sample guild
  (`seed_sample`: Mutuals role, channels, three old members), so earlier bursts are
  not in the guild a side watches. The bot only watches its own guild (`guild_ids`);
  its start-up catch-up (the three old members) finishes before anything is measured.
* The bare client uses the bot's intents (`bot.client.bot.make_intents`), default
  member cache and chunking, and `guild_ready_timeout=0.05` like the bot.
* End of a burst is signalled in-process (a counter in `on_member_join`; a thin wrapper
  around the bot's `Store.record_decisions` that counts committed decisions), so no
  polling query runs inside the measured window. Afterwards the store is checked:
  `count_decisions()` grew by exactly the joins and `events_without_decision()` is 0.
* With busy-creator, joins from `join_many` have fresh accounts and default avatars and
  arrive as a surge, so almost all of them end in `raid hold -> review` (the first few,
  before the surge rule can fire, in `fresh accounts -> observe 14d`, which stores a
  timer). No role or DM goes out in the burst, so the bot's outbox costs nothing there;
  the decision mix is printed. Role traffic is measured by the drain phase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import math
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import discord

from benchmarks._messages_bench import add_message_routes, messages_main
from bot.app import Running, start_bot
from bot.client.bot import make_intents
from bot.client.target import point_discord_at, reset_discord_target
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
ROLE_ROUTE = "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
FOLLOW_ALL = """\
version: 1
owner:
  timezone: UTC
follow_back:
  role: Mutuals
rules:
  - name: everyone
    then: follow_back
examples:
  - member: {name: anyone}
    expect: {rule: everyone, action: follow_back}
"""


# --- the stand-in, in its own process ---------------------------------------------------------


def serve_standin() -> int:
    """`--serve-standin`: the stock stand-in plus /_bench/ endpoints (paced joins, PUT tally)."""
    from aiohttp import web

    from bot.standin import StandIn

    class BenchStandIn(StandIn):
        paced: asyncio.Task[None] | None = None

        def build_app(self) -> web.Application:
            app = super().build_app()
            app.router.add_post("/_bench/paced_joins", self._paced_joins)
            app.router.add_get("/_bench/role_puts", self._role_puts)
            add_message_routes(self, app)  # --messages: posts from inside this process
            return app

        async def _paced_joins(self, request: web.Request) -> web.Response:
            body = await request.json()
            self.paced = asyncio.create_task(
                self._pace(int(body["guild_id"]), int(body["n"]), float(body["rate"]))
            )
            return web.json_response({"ok": True})

        async def _pace(self, guild_id: int, n: int, rate: float) -> None:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(n):
                delay = start + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self.join(guild_id, username=f"paced{i}")

        async def _role_puts(self, request: web.Request) -> web.Response:
            ok = limited = other = 0
            first = last_ok = None
            for item in self.recorder.requests("PUT"):
                if "/roles/" not in item.path:
                    continue
                at = item.at.timestamp()
                first = at if first is None else first
                if item.status == 204:
                    ok += 1
                    last_ok = at
                elif item.status == 429:
                    limited += 1
                else:
                    other += 1
            return web.json_response(
                {"ok": ok, "limited": limited, "other": other, "first": first, "last_ok": last_ok}
            )

    async def main() -> int:
        standin = BenchStandIn(token=None)
        await standin.start("127.0.0.1", 0)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"standin ready: {standin.base_url}", flush=True)
        await stop.wait()
        await standin.stop()
        return 0

    return asyncio.run(main())


@dataclass
class Guild:
    guild_id: int
    role_id: int
    owner_id: int


class StandInProc:
    """A stand-in process and an HTTP session to drive it."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession, pid: int) -> None:
        self.base_url = base_url
        self.http = http
        self.pid = pid

    async def call(self, action: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/_standin/{action}"
        async with self.http.post(url, json=kwargs) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"stand-in {action}: {resp.status} {body}")
            return body["result"]

    async def bench(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/_bench/{path}"
        if method == "GET":
            async with self.http.get(url) as resp:
                return await resp.json()
        async with self.http.post(url, json=kwargs) as resp:
            return await resp.json()

    async def new_guild(self) -> Guild:
        """A fresh copy of the sample guild (Mutuals role, channels, three old members)."""
        world = await self.call("seed_sample")
        return Guild(
            int(world["guild_id"]), int(world["follow_back_role_id"]), int(world["owner_id"])
        )

    def cpu_seconds(self) -> float:
        """The stand-in process's CPU time so far (Linux /proc), or NaN."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return math.nan


@asynccontextmanager
async def standin_process() -> AsyncIterator[StandInProc]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.pipeline_bench",
        "--serve-standin",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        base_url = line.split("standin ready: ", 1)[1].strip()
        timeout = aiohttp.ClientTimeout(total=600)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            yield StandInProc(base_url, http, proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# --- the two clients --------------------------------------------------------------------------


class Bare(discord.Client):
    """A discord.py client with the bot's intents that only counts joins."""

    def __init__(self) -> None:
        super().__init__(
            intents=make_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
        )
        self.guild_id = 0
        self.count = 0
        self.target = 0
        self.latencies: list[float] | None = None
        self.done = asyncio.Event()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_member_join(self, member: discord.Member) -> None:
        if member.guild.id != self.guild_id:
            return
        if self.latencies is not None and member.joined_at is not None:
            self.latencies.append(time.time() - member.joined_at.timestamp())
        self.count += 1
        if self.count >= self.target:
            self.done.set()


@asynccontextmanager
async def bare_client(standin: StandInProc, guild: Guild) -> AsyncIterator[Bare]:
    point_discord_at(standin.base_url)
    client = Bare()
    client.guild_id = guild.guild_id
    task = asyncio.create_task(client.start(TOKEN))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 60)
        yield client
    finally:
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        reset_discord_target()


class DecisionTap:
    """Counts decisions as their commit returns (a wrapper on the bot's Store instance)."""

    def __init__(self, running: Running, guild_id: int) -> None:
        store = running.store
        self._inner = store.record_decisions
        store.record_decisions = self._record  # type: ignore[method-assign]
        self.guild_id = guild_id
        self.count = 0
        self.target = 0
        self.stored_at: dict[int, float] | None = None
        self.done = asyncio.Event()

    async def _record(self, items: Sequence[Any], at: datetime) -> list[int]:
        ids = await self._inner(items, at)
        mine = [item for item in items if item.guild_id == self.guild_id]
        if self.stored_at is not None:
            now = time.time()
            for item in mine:
                self.stored_at.setdefault(item.user_id, now)
        self.count += len(mine)
        if self.target and self.count >= self.target:
            self.done.set()
        return ids

    def arm(self, target: int) -> None:
        self.count = 0
        self.target = target
        self.done.clear()


@dataclass
class BotSide:
    running: Running
    tap: DecisionTap
    database: Path


@asynccontextmanager
async def bot_client(
    standin: StandInProc, guild: Guild, policy: Path, workdir: Path
) -> AsyncIterator[BotSide]:
    point_discord_at(standin.base_url)
    database = workdir / f"bot-{guild.guild_id}.sqlite3"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        policy=policy,
        database=database,
        owner_id=guild.owner_id,
        guild_ids=[guild.guild_id],
    )
    running = await start_bot(
        settings, TOKEN, watch_policy=False, guild_ready_timeout=0.05, ready_timeout=60
    )
    try:
        await running.followers.flush()  # start-up catch-up stored and decided
        yield BotSide(running, DecisionTap(running, guild.guild_id), database)
    finally:
        await running.stop()
        reset_discord_target()


# --- phases -----------------------------------------------------------------------------------


@dataclass
class Burst:
    side: str
    events: int
    seconds: float
    cpu: float
    loop_cpu: float  # the event-loop thread alone (the rest: aiosqlite's and discord.py's threads)
    standin_cpu: float
    check: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def cpu_per_1k(self) -> float:
        return self.cpu / self.events * 1000


async def burst_bare(standin: StandInProc, joins: int, profile: Path | None = None) -> Burst:
    guild = await standin.new_guild()
    async with bare_client(standin, guild) as client:
        client.target = joins
        profiler = cProfile.Profile() if profile is not None else None
        s0 = standin.cpu_seconds()
        t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
        if profiler is not None:
            profiler.enable()
        await standin.call("join_many", guild_id=str(guild.guild_id), n=joins, prefix="bare")
        await asyncio.wait_for(client.done.wait(), 600)
        if profiler is not None:
            profiler.disable()
        t1, c1, m1 = time.perf_counter(), time.process_time(), time.thread_time()
        s1 = standin.cpu_seconds()
        if profiler is not None and profile is not None:
            profiler.dump_stats(str(profile))
    return Burst("bare", joins, t1 - t0, c1 - c0, m1 - m0, s1 - s0)


async def burst_bot(
    standin: StandInProc, joins: int, policy: Path, workdir: Path, profile: Path | None
) -> Burst:
    guild = await standin.new_guild()
    async with bot_client(standin, guild, policy, workdir) as side:
        store = side.running.store
        before = await store.count_decisions(guild.guild_id)
        side.tap.arm(joins)
        profiler = cProfile.Profile() if profile is not None else None
        s0 = standin.cpu_seconds()
        t0, c0, m0 = time.perf_counter(), time.process_time(), time.thread_time()
        if profiler is not None:
            profiler.enable()
        await standin.call("join_many", guild_id=str(guild.guild_id), n=joins, prefix="bot")
        await asyncio.wait_for(side.tap.done.wait(), 600)
        if profiler is not None:
            profiler.disable()
        t1, c1, m1 = time.perf_counter(), time.process_time(), time.thread_time()
        s1 = standin.cpu_seconds()
        if profiler is not None and profile is not None:
            profiler.dump_stats(str(profile))
        await side.running.followers.flush()
        check = {
            "decisions": await store.count_decisions(guild.guild_id) - before,
            "without_decision": await store.events_without_decision(),
            "mix": decision_mix(side.database, guild.guild_id),
        }
    return Burst("bot", joins, t1 - t0, c1 - c0, m1 - m0, s1 - s0, check)


def decision_mix(database: Path, guild_id: int) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT rule || ' -> ' || action, COUNT(*) FROM decisions WHERE guild_id = ? "
            "GROUP BY 1 ORDER BY 2 DESC",
            (guild_id,),
        ).fetchall()
        outbox = conn.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY 1").fetchall()
        timers = conn.execute("SELECT COUNT(*) FROM timers").fetchone()[0]
    mix = {str(k): int(v) for k, v in rows}
    mix.update({f"outbox {k}": int(v) for k, v in outbox})
    mix["timers"] = int(timers)
    return mix


def joined_at(database: Path, guild_id: int) -> dict[int, float]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT user_id, joined_at FROM members WHERE guild_id = ?", (guild_id,)
        ).fetchall()
    return {int(uid): datetime.fromisoformat(at).timestamp() for uid, at in rows if at}


@dataclass
class Latency:
    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    decided_p99_ms: float = math.nan  # decided_at (the bot's own stamp) - joined_at
    without_decision: int = 0
    decisions: int = 0


def _latency(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    qs = statistics.quantiles(ordered, n=100, method="inclusive")
    return qs[49] * 1000, qs[98] * 1000, ordered[-1] * 1000


async def latency_bare(standin: StandInProc, n: int, rate: float) -> Latency:
    guild = await standin.new_guild()
    async with bare_client(standin, guild) as client:
        client.target = n
        client.latencies = []
        await standin.bench("POST", "paced_joins", guild_id=str(guild.guild_id), n=n, rate=rate)
        await asyncio.wait_for(client.done.wait(), n / rate + 120)
        p50, p99, worst = _latency(client.latencies)
    return Latency(n, p50, p99, worst)


async def latency_bot(
    standin: StandInProc, n: int, rate: float, policy: Path, workdir: Path
) -> Latency:
    guild = await standin.new_guild()
    async with bot_client(standin, guild, policy, workdir) as side:
        side.tap.arm(n)
        side.tap.stored_at = {}
        await standin.bench("POST", "paced_joins", guild_id=str(guild.guild_id), n=n, rate=rate)
        await asyncio.wait_for(side.tap.done.wait(), n / rate + 120)
        await side.running.followers.flush()
        store = side.running.store
        without = await store.events_without_decision()
        joined = joined_at(side.database, guild.guild_id)
        samples = [at - joined[uid] for uid, at in side.tap.stored_at.items() if uid in joined]
        with contextlib.closing(sqlite3.connect(f"file:{side.database}?mode=ro", uri=True)) as c:
            decided = c.execute(
                "SELECT d.decided_at, m.joined_at FROM decisions d JOIN members m "
                "ON m.guild_id = d.guild_id AND m.user_id = d.user_id WHERE d.guild_id = ? "
                "AND m.username LIKE 'paced%'",
                (guild.guild_id,),
            ).fetchall()
    own = [
        datetime.fromisoformat(d).timestamp() - datetime.fromisoformat(j).timestamp()
        for d, j in decided
    ]
    p50, p99, worst = _latency(samples)
    return Latency(len(samples), p50, p99, worst, _latency(own)[1], without, len(decided))


@dataclass
class Drain:
    roles: int
    limit: int
    window: float
    seconds: float
    limited: int
    other: int
    cpu: float
    without_decision: int

    @property
    def ideal(self) -> float:
        return (math.ceil(self.roles / self.limit) - 1) * self.window

    @property
    def fraction(self) -> float:
        return self.ideal / self.seconds if self.seconds > 0 else math.nan

    @property
    def rate(self) -> float:
        return self.roles / self.seconds


async def drain_bot(
    standin: StandInProc, roles: int, limit: int, window: float, workdir: Path
) -> Drain:
    policy = workdir / "follow-everyone.yaml"
    policy.write_text(FOLLOW_ALL)
    guild = await standin.new_guild()
    await standin.call("rate_limit", route=ROLE_ROUTE, limit=limit, per=window)
    async with bot_client(standin, guild, policy, workdir) as side:
        # The three old sample members are followed back at start-up: not part of the count.
        await asyncio.sleep(0.5)
        base = (await standin.bench("GET", "role_puts"))["ok"]
        await standin.call("clear_requests")
        # Start on a fresh window: wait until the start-up requests' window has expired.
        await asyncio.sleep(window if base else 0)
        c0 = time.process_time()
        await standin.call("join_many", guild_id=str(guild.guild_id), n=roles, prefix="drain")
        deadline = time.monotonic() + roles / limit * window * 3 + 120
        while True:
            tally = await standin.bench("GET", "role_puts")
            if tally["ok"] >= roles or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.25)
        cpu = time.process_time() - c0
        await side.running.followers.flush()
        without = await side.running.store.events_without_decision()
    if tally["ok"] < roles:
        raise RuntimeError(f"drain: only {tally['ok']} of {roles} roles confirmed: {tally}")
    return Drain(
        roles,
        limit,
        window,
        tally["last_ok"] - tally["first"],
        tally["limited"],
        tally["other"],
        cpu,
        without,
    )


async def drain_bare(
    standin: StandInProc, roles: int, limit: int, window: float, concurrency: int = 16
) -> Drain:
    """The same role PUTs from a bare discord.py client, in the outbox's pattern (batches of
    200 rows, at most `concurrency` at a time): what discord.py alone achieves."""
    guild = await standin.new_guild()
    await standin.call("rate_limit", route=ROLE_ROUTE, limit=limit, per=window)
    ids = await standin.call("join_many", guild_id=str(guild.guild_id), n=roles, prefix="bare")
    await standin.call("clear_requests")
    async with bare_client(standin, guild) as client:
        slots = asyncio.Semaphore(concurrency)

        async def add(user_id: int) -> None:
            async with slots:
                await client.http.add_role(guild.guild_id, user_id, guild.role_id)

        c0 = time.process_time()
        for start in range(0, len(ids), 200):
            await asyncio.gather(*(add(int(uid)) for uid in ids[start : start + 200]))
        cpu = time.process_time() - c0
        tally = await standin.bench("GET", "role_puts")
    return Drain(
        roles,
        limit,
        window,
        tally["last_ok"] - tally["first"],
        tally["limited"],
        tally["other"],
        cpu,
        0,
    )


# --- the report -------------------------------------------------------------------------------


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def runs_of(values: Sequence[float], fmt: str) -> str:
    return ", ".join(format(v, fmt) for v in values)


def goal(ok: bool, text: str) -> str:
    return f"  [{'met' if ok else 'NOT MET'}] {text}"


async def main(args: argparse.Namespace) -> int:
    logging.getLogger("discord").setLevel(logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    policy = args.policy
    joins, runs = args.joins, args.runs
    print(
        f"pipeline bench: {joins:,} joins x {runs} runs, policy {policy.name}; "
        f"latency {args.rate:g}/s for {args.latency_seconds:g}s; "
        f"drain {args.drain_roles:,} roles at {args.limit} per {args.window:g}s",
        flush=True,
    )
    bares: list[Burst] = []
    bots: list[Burst] = []
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        workdir = Path(tmp)
        if args.warmup:
            # First use of discord.py, the policy and SQLite in this process; not counted.
            async with standin_process() as standin:
                await burst_bare(standin, args.warmup)
                await burst_bot(standin, args.warmup, policy, workdir, None)
        for run in range(runs):
            async with standin_process() as standin:
                order = ("bare", "bot") if run % 2 == 0 else ("bot", "bare")
                for side in order:
                    if side == "bare":
                        bares.append(await burst_bare(standin, joins))
                    else:
                        bots.append(await burst_bot(standin, joins, policy, workdir, None))
                b, o = bares[-1], bots[-1]
                print(
                    f"  run {run + 1}: bare {b.rate:,.0f} ev/s {b.cpu_per_1k:.3f} cpu-s/1k | "
                    f"bot {o.rate:,.0f} ev/s {o.cpu_per_1k:.3f} cpu-s/1k | "
                    f"ratio {o.cpu_per_1k / b.cpu_per_1k:.2f} | "
                    f"decided {o.check['decisions']:,}, without {o.check['without_decision']}",
                    flush=True,
                )
        if args.profile:
            # Profiled bursts are extra (cProfile slows the loop thread); not in the figures.
            async with standin_process() as standin:
                await burst_bare(standin, joins, Path(f"{args.profile}.bare"))
                await burst_bot(standin, joins, policy, workdir, Path(f"{args.profile}.bot"))
            print(f"  profiles (event-loop thread): {args.profile}.bare, {args.profile}.bot")
        n_lat = max(1, round(args.rate * args.latency_seconds))
        async with standin_process() as standin:
            lat_bare = await latency_bare(standin, n_lat, args.rate)
            lat_bot = await latency_bot(standin, n_lat, args.rate, policy, workdir)
        async with standin_process() as standin:
            drain = await drain_bot(standin, args.drain_roles, args.limit, args.window, workdir)
            drain_b = await drain_bare(standin, args.drain_roles, args.limit, args.window)

    ratios = [o.cpu_per_1k / b.cpu_per_1k for b, o in zip(bares, bots, strict=True)]
    rate_ratios = [o.rate / b.rate for b, o in zip(bares, bots, strict=True)]
    without = sum(o.check["without_decision"] for o in bots) + lat_bot.without_decision
    without += drain.without_decision
    missing = sum(joins - o.check["decisions"] for o in bots)
    cpu_ratio = med(ratios)

    print()
    print(f"burst of {joins:,} joins (medians of {runs}; runs in brackets)")
    print(f"  {'':<30}{'bare discord.py':>18}{'bot':>14}{'bot/bare':>10}")
    print(
        f"  {'events/s to decision-stored':<30}{med([b.rate for b in bares]):>18,.0f}"
        f"{med([o.rate for o in bots]):>14,.0f}{med(rate_ratios):>10.2f}"
    )
    print(
        f"  {'CPU seconds per 1,000 events':<30}{med([b.cpu_per_1k for b in bares]):>18.3f}"
        f"{med([o.cpu_per_1k for o in bots]):>14.3f}{cpu_ratio:>10.2f}"
    )
    print(
        f"  {'  of which event-loop thread':<30}"
        f"{med([b.loop_cpu / b.events * 1000 for b in bares]):>18.3f}"
        f"{med([o.loop_cpu / o.events * 1000 for o in bots]):>14.3f}"
        f"{med([o.loop_cpu / b.loop_cpu for b, o in zip(bares, bots, strict=True)]):>10.2f}"
    )
    print(
        f"  {'  of which other threads':<30}"
        f"{max(0.0, med([(b.cpu - b.loop_cpu) / b.events * 1000 for b in bares])):>18.3f}"
        f"{med([(o.cpu - o.loop_cpu) / o.events * 1000 for o in bots]):>14.3f}"
    )
    print(
        f"  {'stand-in CPU s per 1,000':<30}"
        f"{med([b.standin_cpu / b.events * 1000 for b in bares]):>18.3f}"
        f"{med([o.standin_cpu / o.events * 1000 for o in bots]):>14.3f}"
    )
    print(f"    bare ev/s [{runs_of([b.rate for b in bares], ',.0f')}]")
    print(f"    bot  ev/s [{runs_of([o.rate for o in bots], ',.0f')}]")
    print(f"    bare cpu/1k [{runs_of([b.cpu_per_1k for b in bares], '.3f')}]")
    print(f"    bot  cpu/1k [{runs_of([o.cpu_per_1k for o in bots], '.3f')}]")
    print(f"    CPU ratio per run [{runs_of(ratios, '.2f')}]")
    mix = bots[-1].check["mix"]
    print("  decision mix (last run): " + ", ".join(f"{k}: {v:,}" for k, v in mix.items()))
    print()
    print(f"latency at {args.rate:g} joins/s for {args.latency_seconds:g}s ({n_lat:,} joins)")
    print(
        f"  bot  join -> decision stored: p50 {lat_bot.p50_ms:.1f} ms, "
        f"p99 {lat_bot.p99_ms:.1f} ms, max {lat_bot.max_ms:.1f} ms ({lat_bot.events:,} decisions)"
    )
    print(f"       (join -> the bot's decided_at stamp: p99 {lat_bot.decided_p99_ms:.1f} ms)")
    print(
        f"  bare join -> on_member_join:  p50 {lat_bare.p50_ms:.1f} ms, "
        f"p99 {lat_bare.p99_ms:.1f} ms, max {lat_bare.max_ms:.1f} ms"
    )
    print()
    print(
        f"drain: {drain.roles:,} role additions, stand-in allows {drain.limit} per "
        f"{drain.window:g}s (N = {drain.limit / drain.window:g}/s)"
    )
    print(
        f"  first role PUT -> last accepted: {drain.seconds:.2f} s (ideal {drain.ideal:.2f} s); "
        f"{drain.rate:,.0f} roles/s; drain {drain.fraction:.1%} of the allowed rate; "
        f"{drain.limited} answered 429, {drain.other} other errors; "
        f"bot CPU {drain.cpu / drain.roles * 1000:.3f} s per 1,000 roles"
    )
    print(
        f"  bare discord.py, same PUTs (16 at a time, batches of 200): {drain_b.seconds:.2f} s; "
        f"drain {drain_b.fraction:.1%}; {drain_b.limited} answered 429; "
        f"CPU {drain_b.cpu / drain_b.roles * 1000:.3f} s per 1,000 roles"
    )
    print()
    print(f"events without a decision: {without}" + (f" (missing {missing})" if missing else ""))
    print()
    print("goals")
    met = [
        cpu_ratio <= 2.0,
        drain.fraction >= 0.90,
        lat_bot.p99_ms < 100.0,
        without == 0 and missing == 0,
    ]
    print(goal(met[0], f"CPU ratio at most 2.0 against the bare client: {cpu_ratio:.2f}"))
    print(goal(met[1], f"drain at least 90% of the allowed rate: {drain.fraction:.1%}"))
    print(goal(met[2], f"p99 under 100 ms at {args.rate:g} joins/s: {lat_bot.p99_ms:.1f} ms"))
    print(goal(met[3], f"zero events without a decision: {without}"))
    return 0 if all(met) else 1


def cli() -> None:
    if "--serve-standin" in sys.argv[1:]:
        sys.exit(serve_standin())
    parser = argparse.ArgumentParser(
        description="joins through the stand-in into the bot, against a bare discord.py client"
    )
    parser.add_argument("--joins", type=int, default=None, help="joins per burst (10,000)")
    parser.add_argument("--runs", type=int, default=None, help="alternating runs (3)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run < 60 s")
    parser.add_argument("--policy", default=str(REPO / "policies" / "busy-creator.yaml"))
    parser.add_argument("--rate", type=float, default=200.0, help="joins/s for the latency")
    parser.add_argument("--latency-seconds", type=float, default=None, help="(10)")
    parser.add_argument("--drain-roles", type=int, default=None, help="(as many as --joins)")
    parser.add_argument("--limit", type=int, default=None, help="role PUTs per window (500)")
    parser.add_argument("--window", type=float, default=1.0, help="rate-limit window, seconds")
    parser.add_argument("--warmup", type=int, default=None, help="uncounted joins first (1,000)")
    parser.add_argument(
        "--profile",
        default=None,
        help="also cProfile one extra burst per side to FILE.bare / FILE.bot",
    )
    parser.add_argument(
        "--messages",
        action="store_true",
        help="the messages mode: mentions through the bot beside a bare client (issue 11)",
    )
    parser.add_argument("--messages-n", type=int, default=None, help="per burst (10,000)")
    parser.add_argument("--messages-rate", type=float, default=200.0, help="for the latency")
    args = parser.parse_args()
    quick = args.quick
    if args.messages:
        args.messages_n = args.messages_n or (1_000 if quick else 10_000)
        args.runs = args.runs or (1 if quick else 3)
        args.latency_seconds = args.latency_seconds or (3.0 if quick else 10.0)
        sys.exit(asyncio.run(messages_main(args, standin_process)))
    args.joins = args.joins or (1_000 if quick else 10_000)
    args.runs = args.runs or (1 if quick else 3)
    args.warmup = (200 if quick else 1_000) if args.warmup is None else args.warmup
    args.latency_seconds = args.latency_seconds or (3.0 if quick else 10.0)
    args.drain_roles = args.drain_roles or (1_000 if quick else args.joins)
    args.limit = args.limit or (250 if quick else 500)
    args.policy = Path(args.policy).resolve()
    sys.exit(asyncio.run(main(args)))


if __name__ == "__main__":
    cli()
