"""`followback run` as a user starts it (a subprocess): each failure is one line, no traceback,
a non-zero exit, and no database unless the bot got as far as logging in."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.standin import StandIn
from bot.startup import lock_database

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "tests" / "e2e" / "e2e_policy.yaml"
TOKEN = "planted.token-value.xyz"


def followback(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWBACK_")}
    clean.pop("DISCORD_TOKEN", None)
    clean["PYTHONPATH"] = str(ROOT)  # this checkout, whatever is installed
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("followback: ")
    for word in words:
        assert word in lines[0]
    assert TOKEN not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A user's folder: `.env` copied from .env.example with a token filled in."""
    example = (ROOT / ".env.example").read_text()
    (tmp_path / ".env").write_text(example.replace("DISCORD_TOKEN=\n", f"DISCORD_TOKEN={TOKEN}\n"))
    return tmp_path


def test_connection_refused(workdir: Path) -> None:
    result = followback(workdir, "run", FOLLOWBACK_API_BASE="http://127.0.0.1:1")
    assert_one_line_failure(result, "cannot connect to 127.0.0.1:1", "FOLLOWBACK_API_BASE")
    assert not (workdir / "data").exists()  # no database before anything is known to work


def test_no_network_or_dns(workdir: Path) -> None:
    result = followback(workdir, "run", FOLLOWBACK_API_BASE="http://followback-test.invalid")
    assert_one_line_failure(result, "followback-test.invalid")
    assert not (workdir / "data").exists()


def test_a_malformed_api_base(workdir: Path) -> None:
    result = followback(workdir, "run", FOLLOWBACK_API_BASE="not a url")
    assert_one_line_failure(result, "FOLLOWBACK_API_BASE", "'not a url'", "expected")
    assert result.returncode == 2


def test_a_bad_churn_window_with_a_token(workdir: Path) -> None:
    result = followback(workdir, "run", FOLLOWBACK_CHURN_WINDOW="forever")
    assert_one_line_failure(result, "FOLLOWBACK_CHURN_WINDOW", "'forever'")


def test_a_missing_policy(workdir: Path) -> None:
    result = followback(workdir, "run", FOLLOWBACK_POLICY="mine.yaml")
    assert_one_line_failure(result, "FOLLOWBACK_POLICY", "'mine.yaml'", "no such file")


def test_a_database_path_that_cannot_be(workdir: Path) -> None:
    (workdir / "a-file").write_text("")
    result = followback(workdir, "run", FOLLOWBACK_DATABASE="a-file/bot.sqlite3")
    assert_one_line_failure(result, "FOLLOWBACK_DATABASE", "not a folder")


def test_env_example_as_is_runs_the_demo(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = followback(tmp_path, "run")
    assert result.returncode == 0, result.stderr
    assert "running the demo" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.fixture
def standin_url() -> Iterator[str]:
    """A stand-in on its own loop thread, reachable from a subprocess."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> StandIn:
        standin = StandIn()
        await standin.start()
        standin.seed_sample()
        return standin

    standin = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield standin.base_url
    finally:
        asyncio.run_coroutine_threadsafe(standin.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_a_database_in_use_by_another_bot(workdir: Path, standin_url: str) -> None:
    database = workdir / "data" / "followback.sqlite3"
    with lock_database(database):  # as a running `followback run` holds it
        result = followback(
            workdir, "run", FOLLOWBACK_API_BASE=standin_url, FOLLOWBACK_POLICY=str(POLICY)
        )
    assert_one_line_failure(result, "another followback", "is using", "followback.sqlite3")
    assert not database.exists()
