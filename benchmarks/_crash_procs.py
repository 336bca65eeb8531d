"""The crash test's processes: the stand-in, the bot, and the stand-in's control API.

Both run as real subprocesses (`python -m bot ...`), as a user would start them; the
bot is killed with SIGKILL, so nothing of it survives but its database.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Lines the bot logs once its start-up catch-up is done (cogs/followers.py, runlog.py).
READY_MARKS = ("catch-up in ", "caught up with guild")
REPO = Path(__file__).resolve().parent.parent
DUMMY_TOKEN = "crash-test-token"  # the stand-in accepts any token
_GUILD_LINE = re.compile(r"guild (\d+) \(owner (\d+)\), role Mutuals (\d+)")


def utcnow() -> datetime:
    return datetime.now(UTC)


class ControlError(RuntimeError):
    """The stand-in's control API answered with an error."""


@dataclass
class Control:
    """`POST /_standin/<action>` and `GET /_standin/requests` over plain HTTP."""

    base_url: str

    def call(self, action: str, **kwargs: Any) -> Any:
        body = json.dumps(kwargs, default=_jsonable).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_standin/{action}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        return self._answer(request)

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        query = f"?method={method}" if method else ""
        result = self._answer(urllib.request.Request(f"{self.base_url}/_standin/requests{query}"))
        assert isinstance(result, list)
        return result

    @staticmethod
    def _answer(request: urllib.request.Request) -> Any:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ControlError(f"{request.full_url}: {exc.read().decode()}") from None
        return answer.get("result")


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} to the stand-in")


@dataclass
class StandinProcess:
    """`followback standin --port 0`; reads its URL and the sample guild from its output."""

    proc: subprocess.Popen[str]
    control: Control
    guild_id: int
    role_id: int

    @classmethod
    def start(cls, log_path: Path) -> StandinProcess:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "standin", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log_path.open("w"),
            text=True,
            env=_clean_env(),
        )
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        if "standin ready: " not in first:
            proc.kill()
            raise RuntimeError(f"the stand-in did not start: {first!r}; see {log_path}")
        found = _GUILD_LINE.search(second)
        if found is None:
            proc.kill()
            raise RuntimeError(f"no sample guild in the stand-in's output: {second!r}")
        base_url = first.split("standin ready: ", 1)[1].strip()
        return cls(proc, Control(base_url), int(found.group(1)), int(found.group(3)))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class BotRun:
    """One start of `followback run`, from spawn to SIGKILL (or the final stop)."""

    number: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    started: datetime
    ready: datetime | None = None
    ended: datetime | None = None
    killed_before_ready: bool = False
    exit_code: int | None = None

    def poll_ready(self) -> bool:
        """Whether the start-up catch-up is done (its log line has appeared)."""
        if self.ready is None and _has_ready_mark(self.log_path):
            self.ready = utcnow()
        return self.ready is not None

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.poll_ready():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def exited_on_its_own(self) -> bool:
        return self.ended is None and self.proc.poll() is not None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what is not committed is lost."""
        self.poll_ready()
        self.killed_before_ready = self.ready is None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.exit_code = self.proc.wait()
        self.ended = utcnow()

    def stop(self) -> None:
        """SIGTERM, as `docker stop` does: the final run ends cleanly."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.exit_code = self.proc.wait()
        self.ended = utcnow()


def _has_ready_mark(path: Path) -> bool:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return False
    return any(mark in text for mark in READY_MARKS)


def _clean_env() -> dict[str, str]:
    """This environment minus any Followback or Discord settings of the user's own."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FOLLOWBACK_", "DISCORD_"))
    }


def start_bot(number: int, workdir: Path, base_url: str, policy: Path, database: Path) -> BotRun:
    """`followback run` against the stand-in, in `workdir` (so no `.env` of the user's applies)."""
    env = _clean_env() | {
        "DISCORD_TOKEN": DUMMY_TOKEN,
        "FOLLOWBACK_API_BASE": base_url,
        "FOLLOWBACK_DATABASE": str(database),
        "FOLLOWBACK_POLICY": str(policy),
        "FOLLOWBACK_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        # the checkout first, in case it is not installed (the bot runs in `workdir`)
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    log_path = workdir / f"bot-{number:03d}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return BotRun(number, proc, log_path, utcnow())


def check_policy(policy: Path) -> None:
    """`followback policy check` on the harness policy: a broken one stops the run at once."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "policy", "check", str(policy)],
        capture_output=True,
        text=True,
        env=_clean_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"policy check failed:\n{done.stdout}{done.stderr}")
