"""A 100,000-member server, from a cold start to caught up, beside a bare discord.py client
(issue #14).

    python -m benchmarks.scale_bench [--quick] [--members N] [--runs R] [--profile DIR]

Per run, a fresh stand-in process (benchmarks/_scale_standin.py) builds a guild of
`--members` followers whose list comes as Discord sends it: GUILD_CREATE carries only the
bot, the rest arrives in GUILD_MEMBERS_CHUNK events of at most 1,000 after op 8. The bot's
store is seeded through the Store's own batch methods (benchmarks/_scale_seed.py) with the
guild as it was when the bot stopped: the members, 10,000 pending timers (late
follow-backs and observe windows; 100 fell due during the downtime) and 1,000 pending role
additions; since then 1,000 members joined and 500 left.

Then, in the order bare/bot (alternating between runs), each as its own process:

* the bare client (benchmarks/_scale_bare.py: discord.py alone, the bot's intents, its
  default chunking): seconds from spawn to "on_ready with the guild chunked", VmRSS then;
* the bot, `python -m bot run` (dummy token, FOLLOWBACK_API_BASE at the stand-in, the
  seeded database, `--policy`): seconds from spawn to the run log's "caught up with guild"
  line, VmRSS then (and its peak, VmHWM), the rebuild of timers and outbox (the run log's
  timestamps of its "intents:" line, the last before the rebuild, and its "start-up: N
  timers rebuilt" line), then it is left to fire the timers due in the downtime (the role
  additions drain at Discord's rate, 10 per 10 s, longer than a benchmark waits) before
  SIGTERM, and the database is checked (benchmarks/_scale_checks.py).

After the runs, a simulated day: bot and bare client both connected to a fresh seeded
guild while the stand-in paces `--day-joins` joins, each followed by the leave of the
oldest follower (the guild keeps its size, so discord.py's cache does not grow), their
`joined_at` walking through 24 hours. VmRSS of both is sampled each second; "flat" means
the end is within 5 % of the value once warm (a quarter of the way through).

What the day cannot show: the bot's `run` has no injected clock (SystemClock), so anything
the bot expires by its own clock (the role-echo map's 15 s, the join cache's floor) sees
minutes, not a day. The joins' own times do walk through the day, which is what the join
cache prunes by.

Figures are medians over `--runs` (quick: 1), each printed beside its goal. Exit status:
1 in --quick mode only when a correctness check fails (never for a speed goal); 1 in a
full run when a check fails too.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._scale_checks import Checked, check, timers_due_left
from benchmarks._scale_procs import (
    BARE_READY,
    CATCH_UP_COST,
    CAUGHT_UP,
    INTENTS_LINE,
    REPO,
    START_UP,
    Proc,
    StandIn,
    log_seconds,
    standin,
    start_bare,
    start_bot,
)
from benchmarks._scale_seed import Seeded, seed_store
from benchmarks._scale_store import probe_store

MB = 1024 * 1024
READY_TIMEOUT = 600.0


@dataclass
class Run:
    bare_seconds: float = 0.0
    bare_rss: int = 0
    bare_members: int = 0
    bot_seconds: float = 0.0
    bot_rss: int = 0
    bot_hwm: int = 0
    bot_rss_settled: int = 0
    rebuild_seconds: float | None = None
    rebuilt_timers: int | None = None
    caught: tuple[int, int] = (0, 0)  # new, left, as the run log says
    catch_up_seconds: float | None = None  # the catch-up's own part, as the run log says
    timers_fired_seconds: float | None = None
    seed_seconds: float = 0.0
    probe: dict[str, float] = field(default_factory=dict)
    checked: Checked = field(default_factory=Checked)

    @property
    def ratio(self) -> float:
        return self.bot_seconds / self.bare_seconds

    @property
    def rss_ratio(self) -> float:
        return self.bot_rss / self.bare_rss


@dataclass
class Day:
    joins: int
    seconds: float
    bot: list[tuple[float, int]]  # (seconds into the day, VmRSS)
    bare: list[tuple[float, int]]
    decided: int = 0

    @staticmethod
    def eighths(samples: list[tuple[float, int]]) -> list[int]:
        """The sample at each eighth of the way (growth that is a step or a slope)."""
        if not samples:
            return []
        end_at = samples[-1][0]
        return [next(rss for at, rss in samples if at >= end_at * k / 8) for k in range(1, 9)]

    @staticmethod
    def drift(samples: list[tuple[float, int]]) -> tuple[int, int, float]:
        """(RSS once warm, RSS at the end, change in %)."""
        if not samples:
            return 0, 0, float("nan")
        end_at = samples[-1][0]
        warm = next(rss for at, rss in samples if at >= end_at / 4)
        end = samples[-1][1]
        return warm, end, (end - warm) / warm * 100


async def build(
    si: StandIn, args: argparse.Namespace, database: Path
) -> tuple[dict[str, Any], Seeded]:
    world = await si.post(
        "/_scale/world",
        members=args.members,
        joined_offline=args.joined_offline,
        left_offline=args.left_offline,
    )
    seeded = await seed_store(
        database,
        world,
        timers=args.timers,
        outbox=args.outbox,
        due_offline=args.due_offline,
        seed=args.seed,
    )
    return world, seeded


async def run_bare(workdir: Path, si: StandIn, guild_id: int, tag: str) -> tuple[float, int, int]:
    proc = await start_bare(workdir, si.url, guild_id, tag)
    try:
        line = await proc.wait_for(BARE_READY, READY_TIMEOUT)
        rss, _ = proc.memory()
        found = BARE_READY.search(line.text)
        assert found is not None
        return line.at - proc.started, rss, int(found.group(1))
    finally:
        await proc.stop()


async def run_bot(
    workdir: Path,
    si: StandIn,
    world: dict[str, Any],
    seeded: Seeded,
    database: Path,
    policy: Path,
    run: Run,
) -> None:
    guild_id = int(world["guild_id"])
    proc = await start_bot(workdir, si.url, database, policy, guild_id)
    try:
        line = await proc.wait_for(CAUGHT_UP, READY_TIMEOUT)
        run.bot_rss, run.bot_hwm = proc.memory()
        run.bot_seconds = line.at - proc.started
        found = CAUGHT_UP.search(line.text)
        assert found is not None
        run.caught = (int(found.group(2)), int(found.group(3)))
        cost = CATCH_UP_COST.search(line.text)
        run.catch_up_seconds = int(cost.group(2)) / 1000 if cost else None
        start_up = proc.find(START_UP)
        before, after = log_seconds(proc.find(INTENTS_LINE)), log_seconds(start_up)
        if before is not None and after is not None:
            run.rebuild_seconds = after - before
        if start_up is not None:
            found = START_UP.search(start_up.text)
            run.rebuilt_timers = int(found.group(1)) if found else None
        run.timers_fired_seconds = await _fire_due_timers(database, seeded, proc)
        run.bot_rss_settled, run.bot_hwm = proc.memory()
    finally:
        code = await proc.stop()
    if code not in (0, -15):
        raise RuntimeError(f"the bot exited with {code}:\n{proc.tail()}")
    run.checked = check(database, world, seeded, args_members(world))


def args_members(world: dict[str, Any]) -> int:
    """Followers in the guild now: the stored ones still there plus the offline joins."""
    return len(world["stored"]) - len(world["left_ids"]) + len(world["new_ids"])


async def _fire_due_timers(database: Path, seeded: Seeded, proc: Proc) -> float | None:
    """Seconds after caught up until the timers due in the downtime have fired (None if not
    within a minute). The role additions drain at Discord's rate (the stand-in's default
    buckets: 10 per 10 s per guild), far slower than a benchmark waits: not awaited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 60:
        if timers_due_left(database, seeded) == 0:
            return time.perf_counter() - t0
        if proc.proc.returncode is not None:
            return None
        await asyncio.sleep(0.25)
    return None


async def one_run(args: argparse.Namespace, number: int, workdir: Path) -> Run:
    run = Run()
    here = workdir / f"run{number}"
    here.mkdir()
    async with standin(here) as si:
        database = here / "bot.sqlite3"
        world, seeded = await build(si, args, database)
        run.seed_seconds = seeded.seconds
        run.probe = await probe_store(database, world)
        guild_id = int(world["guild_id"])
        order = ("bare", "bot") if number % 2 == 1 else ("bot", "bare")
        for side in order:
            if side == "bare":
                run.bare_seconds, run.bare_rss, run.bare_members = await run_bare(
                    here, si, guild_id, str(number)
                )
            else:
                await run_bot(here, si, world, seeded, database, args.policy, run)
    return run


async def simulated_day(args: argparse.Namespace, workdir: Path) -> Day:
    here = workdir / "day"
    here.mkdir()
    async with standin(here) as si:
        database = here / "bot.sqlite3"
        world, _ = await build(si, args, database)
        guild_id = int(world["guild_id"])
        bot = await start_bot(here, si.url, database, args.policy, guild_id)
        bare = await start_bare(here, si.url, guild_id, "day")
        try:
            await bot.wait_for(CAUGHT_UP, READY_TIMEOUT)
            await bare.wait_for(BARE_READY, READY_TIMEOUT)
            await asyncio.sleep(2)  # the start-up backlog
            day = Day(args.day_joins, 0.0, [], [])
            await si.post(
                "/_scale/steady", n=args.day_joins, rate=args.day_rate, sim_seconds=86_400
            )
            t0 = time.perf_counter()
            while True:
                await asyncio.sleep(1.0)
                at = time.perf_counter() - t0
                day.bot.append((at, bot.memory()[0]))
                day.bare.append((at, bare.memory()[0]))
                progress = await si.get("/_scale/steady")
                if progress["done"] >= progress["n"]:
                    break
            day.seconds = time.perf_counter() - t0
            await asyncio.sleep(3)  # the last joins decided
            day.bot.append((time.perf_counter() - t0, bot.memory()[0]))
            day.bare.append((time.perf_counter() - t0, bare.memory()[0]))
        finally:
            await bot.stop()
            await bare.stop()
        day.decided = sum(1 for line in bot.lines if " by rule " in line.text)
    return day


# --- report -----------------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values)


def mark(ok: bool) -> str:
    return "met   " if ok else "MISSED"


def report(args: argparse.Namespace, runs: list[Run], day: Day | None) -> list[str]:
    """Prints the figures; returns the correctness problems (empty: all checks passed)."""
    n = len(runs)
    bare_s, bot_s = med([r.bare_seconds for r in runs]), med([r.bot_seconds for r in runs])
    ratio = med([r.ratio for r in runs])
    rss_ratio = med([r.rss_ratio for r in runs])
    over = med([r.bot_seconds - r.bare_seconds for r in runs])
    rebuilds = [r.rebuild_seconds for r in runs if r.rebuild_seconds is not None]
    rebuild = med(rebuilds) if rebuilds else None
    print()
    print(
        f"{args.members:,} members in chunks of 1,000; store: {runs[0].checked.present_expected:,}"
        f" present after catch-up, {args.timers:,} timers ({args.due_offline} due in the "
        f"downtime), {args.outbox:,} pending role additions; offline: {args.joined_offline:,} "
        f"joined, {args.left_offline:,} left.  Medians of {n} run(s); runs in brackets."
    )
    print(f"  seeding the store (not measured): {med([r.seed_seconds for r in runs]):.1f} s")
    print()
    print(f"  {'':<44}{'figure':>12}  goal")
    row = "  {:<44}{:>12}  {}"
    print(row.format("bare: spawn -> on_ready, guild chunked", f"{bare_s:.2f} s",
                     f"[{_runs(runs, 'bare_seconds', '.2f')}]"))  # fmt: skip
    print(row.format("bot: spawn -> caught up", f"{bot_s:.2f} s",
                     f"[{_runs(runs, 'bot_seconds', '.2f')}]"))  # fmt: skip
    print(row.format("ratio bot / bare", f"{ratio:.2f}", f"{mark(ratio <= 1.5)} <= 1.5"))
    print(row.format("bot - bare (catch-up and the bot's own start)", f"{over:.2f} s",
                     f"{mark(over <= 3.0)} catch-up <= 3 s (upper bound: includes "
                     "login check, store open, rebuild)"))  # fmt: skip
    own = [r.catch_up_seconds for r in runs if r.catch_up_seconds is not None]
    if own:
        each = _runs(runs, "catch_up_seconds", ".2f")
        print(row.format("  of which the catch-up itself (run log)", f"{med(own):.2f} s",
                         f"{mark(med(own) <= 3.0)} <= 3 s  [{each}]"))  # fmt: skip
    print(row.format("bare VmRSS at on_ready", f"{med([r.bare_rss for r in runs]) / MB:.0f} MB",
                     ""))  # fmt: skip
    print(row.format("bot VmRSS at caught up", f"{med([r.bot_rss for r in runs]) / MB:.0f} MB",
                     f"(peak {med([r.bot_hwm for r in runs]) / MB:.0f} MB, due timers fired "
                     f"{med([r.bot_rss_settled for r in runs]) / MB:.0f} MB)"))  # fmt: skip
    print(row.format("memory bot / bare", f"{rss_ratio:.2f}", f"{mark(rss_ratio <= 1.3)} <= 1.3"))
    if rebuild is None:
        print(row.format("timers + outbox rebuilt", "n/a",
                         "no 'intents:'/'start-up:' lines in the run log"))  # fmt: skip
    else:
        print(row.format(f"timers + outbox rebuilt ({runs[0].rebuilt_timers:,} timers)",
                         f"{rebuild * 1000:.0f} ms",
                         f"{mark(rebuild <= 1.0)} <= 1 s (run log stamps, ms)"))  # fmt: skip
    probe = runs[0].probe
    rebuild_here = med([r.probe["rebuild"] for r in runs])
    print(row.format("  the same store calls, timed here", f"{rebuild_here * 1000:.0f} ms",
                     f"(count_scheduled_timers {probe['count_scheduled_timers'] * 1000:.1f} ms, "
                     f"next_timer_due {probe['next_timer_due'] * 1000:.1f} ms, "
                     f"in_doubt_actions {probe['in_doubt_actions'] * 1000:.1f} ms)"))  # fmt: skip
    print(row.format("  compare_members() of the catch-up, here",
                     f"{med([r.probe['compare'] for r in runs]) * 1000:.0f} ms",
                     f"({probe['compare_rows']:,.0f} listed, {probe['compare_found']:,.0f} "
                     f"differ; peak {probe['compare_peak_mb']:.1f} MB of objects)"))  # fmt: skip
    fired = [r.timers_fired_seconds for r in runs if r.timers_fired_seconds is not None]
    print(row.format("timers due in the downtime fired, after",
                     f"{med(fired):.2f} s" if fired else "n/a",
                     f"({args.due_offline} timers; caught up -> the last fired)"))  # fmt: skip
    print()
    problems: list[str] = []
    print("correctness (checked in the database after each run)")
    for i, r in enumerate(runs, 1):
        c = r.checked
        said = f"run log: {r.caught[0]:,} new, {r.caught[1]:,} left"
        print(
            f"  run {i}: offline joins decided {c.joins_decided:,}/{c.joins_expected:,}; "
            f"leaves recorded {c.leaves_recorded:,}/{c.leaves_expected:,}; present "
            f"{c.present:,}/{c.present_expected:,}; undecided events {c.undecided_events}; "
            f"timers kept {c.timers_kept:,}/{c.timers_expected:,} {dict(c.timers)}; "
            f"outbox kept {c.outbox_kept:,}/{c.outbox_expected:,} {dict(c.outbox)}; {said}"
        )
        problems += [f"run {i}: {p}" for p in c.problems()]
    print(f"  {'all checks passed' if not problems else 'FAILED: ' + '; '.join(problems)}")
    if day is not None:
        print()
        bw, be, bd = Day.drift(day.bot)
        aw, ae, ad = Day.drift(day.bare)
        print(
            f"simulated day: {day.joins:,} joins and as many leaves in {day.seconds:.0f} s "
            f"(joined_at over 24 h; {day.decided:,} decisions in the bot's log)"
        )
        print(f"  bot  VmRSS warm {bw / MB:.0f} MB -> end {be / MB:.0f} MB ({bd:+.1f} %)  "
              f"{mark(abs(bd) <= 5.0)} flat within 5 %")  # fmt: skip
        print("  bot  VmRSS by eighths of the day: "
              + ", ".join(f"{rss / MB:.0f}" for rss in Day.eighths(day.bot)) + " MB")  # fmt: skip
        print(f"  bare VmRSS warm {aw / MB:.0f} MB -> end {ae / MB:.0f} MB ({ad:+.1f} %)  "
              "(the floor: discord.py's own cache and buffers)")  # fmt: skip
        print("  no injected clock in `run`: maps the bot expires by its own clock saw "
              f"{day.seconds / 60:.0f} min of real time, not 24 h")  # fmt: skip
    return problems


def _runs(runs: list[Run], name: str, spec: str) -> str:
    return ", ".join(format(getattr(r, name), spec) for r in runs)


async def main(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    keep = args.keep
    try:
        runs = []
        for number in range(1, args.runs + 1):
            run = await one_run(args, number, workdir)
            runs.append(run)
            print(
                f"  run {number}: bare {run.bare_seconds:.2f} s {run.bare_rss / MB:.0f} MB | "
                f"bot {run.bot_seconds:.2f} s {run.bot_rss / MB:.0f} MB | "
                f"ratio {run.ratio:.2f} time, {run.rss_ratio:.2f} memory",
                flush=True,
            )
        day = await simulated_day(args, workdir) if args.day_joins > 0 else None
        problems = report(args, runs, day)
        if args.profile is not None:
            from benchmarks._scale_profile import profile_start

            await profile_start(args, workdir, Path(args.profile))
    except BaseException:
        keep = True
        print(f"(work files kept in {workdir})", file=sys.stderr)
        raise
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if keep:
        print(f"(work files in {workdir})")
    return 1 if problems else 0


def cli() -> None:
    parser = argparse.ArgumentParser(
        description="a big guild from a cold start to caught up, beside a bare discord.py client"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run < 60 s")
    parser.add_argument("--members", type=int, default=None, help="followers (100,000)")
    parser.add_argument("--runs", type=int, default=None, help="runs for the medians (3)")
    parser.add_argument("--policy", default=str(REPO / "policies" / "busy-creator.yaml"))
    parser.add_argument("--timers", type=int, default=None, help="pending timers (10,000)")
    parser.add_argument("--outbox", type=int, default=None, help="pending role additions (1,000)")
    parser.add_argument("--joined-offline", type=int, default=None, help="(1,000)")
    parser.add_argument("--left-offline", type=int, default=None, help="(500)")
    parser.add_argument("--due-offline", type=int, default=None, help="timers due (100)")
    parser.add_argument("--day-joins", type=int, default=None, help="joins in the day (20,000)")
    parser.add_argument("--day-rate", type=float, default=None, help="joins/s (100)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", action="store_true", help="keep the logs and databases")
    parser.add_argument(
        "--profile",
        default=None,
        help="also start the bot once under py-spy and summarize where start-up goes (DIR)",
    )
    args = parser.parse_args()
    quick = args.quick
    args.members = args.members or (10_000 if quick else 100_000)
    args.runs = args.runs or (1 if quick else 3)
    args.timers = args.timers if args.timers is not None else (1_000 if quick else 10_000)
    args.outbox = args.outbox if args.outbox is not None else (100 if quick else 1_000)
    scale = args.members / 100_000
    if args.joined_offline is None:
        args.joined_offline = max(1, round(1_000 * scale)) if quick else 1_000
    if args.left_offline is None:
        args.left_offline = max(1, round(500 * scale)) if quick else 500
    args.due_offline = args.due_offline if args.due_offline is not None else (10 if quick else 100)
    args.day_joins = args.day_joins if args.day_joins is not None else (1_000 if quick else 20_000)
    args.day_rate = args.day_rate or (200.0 if quick else 100.0)
    args.policy = Path(args.policy).resolve()
    sys.exit(asyncio.run(main(args)))


if __name__ == "__main__":
    cli()
