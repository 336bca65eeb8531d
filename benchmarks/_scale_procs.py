"""The scale benchmark's processes: the stand-in, the bot (`python -m bot run`) and the bare
client, each its own process, started and read from here.

Every line a process writes is timestamped as it arrives (`time.perf_counter()` in this
process), so "from process start to X" is the same clock for the bot and the bare client:
from just before the spawn to the arrival of the line that says X.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
TOKEN = "scale-bench-token"  # the stand-in accepts any token; never a real one here
CAUGHT_UP = re.compile(r"caught up with guild (\d+): (\d+) new, (\d+) left")
# The same line's end: the catch-up's own part, timed by the bot (bot.runlog).
CATCH_UP_COST = re.compile(r"\((\d+) members compared in (\d+) ms\)")
START_UP = re.compile(r"start-up: (\d+) timers rebuilt, (\d+) stored events decided")
INTENTS_LINE = re.compile(r"bot\.run: intents: ")
BARE_READY = re.compile(r"bare ready: (\d+)")
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def clean_env() -> dict[str, str]:
    """This environment minus any Followback or Discord settings of the user's own."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWBACK_", "DISCORD_"))}


@dataclass
class Line:
    at: float  # perf_counter() when it arrived here
    text: str


@dataclass
class Proc:
    """A child process whose output lines are read, kept and timestamped."""

    name: str
    proc: asyncio.subprocess.Process
    started: float  # perf_counter() just before the spawn
    log_path: Path
    lines: list[Line] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def read(self, stream: asyncio.StreamReader) -> None:
        self._reader = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        with self.log_path.open("w", encoding="utf-8") as log:
            while True:
                raw = await stream.readline()
                if not raw:
                    break
                text = raw.decode(errors="replace").rstrip("\n")
                self.lines.append(Line(time.perf_counter(), text))
                log.write(text + "\n")
                self._changed.set()
        self._changed.set()

    async def wait_for(self, pattern: re.Pattern[str], timeout: float) -> Line:
        """The first line matching `pattern` (waiting for it); fails if the process ends."""
        deadline = time.perf_counter() + timeout
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if pattern.search(line.text):
                    return line
            seen = len(self.lines)
            if self._reader is not None and self._reader.done():
                raise RuntimeError(f"{self.name} ended before {pattern.pattern!r}: {self.tail()}")
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {pattern.pattern!r} in {timeout:.0f}s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))

    def find(self, pattern: re.Pattern[str]) -> Line | None:
        return next((line for line in self.lines if pattern.search(line.text)), None)

    def tail(self, n: int = 15) -> str:
        return "\n".join(line.text for line in self.lines[-n:]) + f"\n(log: {self.log_path})"

    def memory(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in bytes, from /proc (Linux); (0, 0) once it has ended."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0, 0
        found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
        return int(found.get("VmRSS", 0)) * 1024, int(found.get("VmHWM", 0)) * 1024

    def cpu_seconds(self) -> float:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    async def stop(self, timeout: float = 30.0) -> int:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            code = await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        return code


async def spawn(
    name: str, argv: list[str], log_path: Path, *, env: dict[str, str], cwd: Path, stream: str
) -> Proc:
    """Start `argv`; read `stream` ("stdout" or "stderr"; the other goes to the same log)."""
    started = time.perf_counter()
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdout=pipe,
        stderr=asyncio.subprocess.STDOUT if stream == "stdout" else pipe,
    )
    child = Proc(name, proc, started, log_path)
    reader = proc.stdout if stream == "stdout" else proc.stderr
    assert reader is not None
    child.read(reader)
    if stream == "stderr" and proc.stdout is not None:
        _drain(proc.stdout)
    return child


def _drain(stream: asyncio.StreamReader) -> None:
    async def drain() -> None:
        while await stream.read(65536):
            pass

    task = asyncio.create_task(drain())
    _DRAINS.add(task)
    task.add_done_callback(_DRAINS.discard)


_DRAINS: set[asyncio.Task[None]] = set()


# --- the stand-in -----------------------------------------------------------------------


@dataclass
class StandIn:
    proc: Proc
    url: str
    http: aiohttp.ClientSession

    async def post(self, path: str, **body: Any) -> Any:
        async with self.http.post(f"{self.url}{path}", json=body) as resp:
            answer = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"stand-in {path}: {resp.status} {answer}")
            return answer

    async def get(self, path: str) -> Any:
        async with self.http.get(f"{self.url}{path}") as resp:
            return await resp.json()


@asynccontextmanager
async def standin(workdir: Path) -> AsyncIterator[StandIn]:
    argv = [sys.executable, "-m", "benchmarks._scale_standin"]
    proc = await spawn(
        "stand-in", argv, workdir / "standin.log", env=clean_env(), cwd=REPO, stream="stdout"
    )
    try:
        line = await proc.wait_for(re.compile("standin ready: "), 60)
        url = line.text.split("standin ready: ", 1)[1].strip()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
            yield StandIn(proc, url, http)
    finally:
        await proc.stop()


# --- the two clients --------------------------------------------------------------------


async def start_bot(
    workdir: Path,
    url: str,
    database: Path,
    policy: Path,
    guild_id: int,
    *,
    profile: Path | None = None,
) -> Proc:
    """`python -m bot run` as a user starts it (in `workdir`, so no `.env` of theirs applies);
    with `profile`, under `py-spy record` (raw folded stacks to that file)."""
    env = clean_env() | {
        "DISCORD_TOKEN": TOKEN,
        "FOLLOWBACK_API_BASE": url,
        "FOLLOWBACK_DATABASE": str(database),
        "FOLLOWBACK_POLICY": str(policy),
        "FOLLOWBACK_GUILD_IDS": str(guild_id),
        "FOLLOWBACK_LOG_LEVEL": "INFO",
    }
    argv = [sys.executable, "-m", "bot", "run"]
    if profile is not None:
        spy = Path(sys.executable).with_name("py-spy")
        argv = [str(spy), "record", "--format", "raw", "--rate", "250", "-o", str(profile),
                "--", *argv]  # fmt: skip
    log = workdir / f"bot-{database.stem}.log"
    return await spawn("bot", argv, log, env=env, cwd=workdir, stream="stderr")


async def start_bare(workdir: Path, url: str, guild_id: int, tag: str) -> Proc:
    argv = [sys.executable, "-m", "benchmarks._scale_bare", url, str(guild_id)]
    log = workdir / f"bare-{tag}.log"
    return await spawn("bare client", argv, log, env=clean_env(), cwd=REPO, stream="stdout")


def log_seconds(line: Line | None) -> float | None:
    """The run log's own timestamp of a line (asctime, milliseconds), as epoch seconds."""
    if line is None:
        return None
    found = LOG_TIME.search(line.text)
    if found is None:
        return None
    # Local time without a zone; only differences of two such stamps are used.
    stamp = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
    return stamp.timestamp()
