"""`scale_bench --profile DIR`: one more start of the bot, under py-spy, summarized.

py-spy (`pip install py-spy`) samples the real `python -m bot run` process from outside
(250 Hz, idle threads left out), from spawn to "caught up", into DIR/bot-startup.txt
(folded stacks: `frame;frame;... count`). The summary prints the functions with the
largest share of the samples, inclusive (the function and what it calls) and self.
Not part of the figures: sampling slows the process a little.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path

from benchmarks._scale_procs import CAUGHT_UP, standin, start_bot
from benchmarks._scale_seed import seed_store

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?):\d+\)$")


def fold(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, inclusive, self) per function ("name (file)") from py-spy's raw output."""
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_name(frame) for frame in stack.split(";")]
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    return total, inclusive, own


def _name(frame: str) -> str:
    found = _FRAME.match(frame.strip())
    if found is None:
        return frame.strip()
    file = found["file"]
    for marker, keep in (
        ("site-packages/", ""),
        ("/bot/", "bot/"),
        ("/benchmarks/", "benchmarks/"),
        ("python3.11/", ""),
    ):
        if marker in file:
            file = keep + file.split(marker, 1)[1]
            break
    return f"{found['func']} ({file})"


def summarize(path: Path, top: int = 25) -> list[str]:
    total, inclusive, own = fold(path)
    if not total:
        return [f"no samples in {path}"]
    lines = [f"{total:,} samples (250 Hz: {total / 250:.1f} s of CPU on the sampled threads)"]
    lines.append("inclusive (the function and everything it calls):")
    for name, n in inclusive.most_common(top):
        lines.append(f"  {n / total:6.1%}  {name}")
    lines.append("self (time in the function's own code):")
    for name, n in own.most_common(top):
        lines.append(f"  {n / total:6.1%}  {name}")
    return lines


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (py-spy starts the bot from one of its threads)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _prepare(workdir: Path, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    here = workdir / "profile"
    here.mkdir()
    return here, out.resolve() / "bot-startup.txt"


async def profile_start(args: argparse.Namespace, workdir: Path, out: Path) -> None:
    here, raw = _prepare(workdir, out)
    async with standin(here) as si:
        database = here / "bot.sqlite3"
        world = await si.post(
            "/_scale/world",
            members=args.members,
            joined_offline=args.joined_offline,
            left_offline=args.left_offline,
        )
        await seed_store(
            database,
            world,
            timers=args.timers,
            outbox=args.outbox,
            due_offline=args.due_offline,
            seed=args.seed,
        )
        proc = await start_bot(
            here, si.url, database, args.policy, int(world["guild_id"]), profile=raw
        )
        try:
            line = await proc.wait_for(CAUGHT_UP, 600)
            print(f"\nprofile: caught up after {line.at - proc.started:.2f} s under py-spy")
        finally:
            # py-spy writes its file when the process it started ends: stop that one.
            # A SIGTERM to py-spy itself would lose the samples.
            for pid in _children(proc.pid):
                os.kill(pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.proc.wait(), 60)
            await proc.stop()
    report(raw, out, proc.log_path)


def report(raw: Path, out: Path, log_path: Path) -> None:
    if not raw.exists():
        print(f"profile: py-spy wrote nothing ({log_path})", file=sys.stderr)
        return
    summary = summarize(raw)
    (out / "summary.txt").write_text("\n".join(summary) + "\n")
    print(f"profile of the bot's start-up ({raw}):")
    for text in summary:
        print(f"  {text}")
