"""Start-up against the stand-in over real sockets: wrong token, missing intent, bad settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import discord
import pytest
from pydantic import SecretStr

from bot.app import Running, _run_forever, start_bot
from bot.cli import main
from bot.client.bot import MissingIntents
from bot.client.target import point_discord_at, reset_discord_target
from bot.policy import load_policy
from bot.settings import Settings
from bot.standin import SampleWorld, StandIn

POLICY = Path(__file__).parent / "e2e" / "e2e_policy.yaml"


def settings(tmp_path: Path, world: SampleWorld | None = None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        policy=POLICY,
        database=tmp_path / "bot.sqlite3",
        owner_id=world.owner_id if world else None,
        guild_ids=[world.guild_id] if world else [],
    )


async def start(tmp_path: Path, world: SampleWorld) -> Running:
    """The whole bot against the stand-in, started as `followback run` starts it."""
    return await asyncio.wait_for(
        start_bot(
            settings(tmp_path, world),
            "any",
            ready_timeout=10,
            watch_policy=False,
            guild_ready_timeout=0.05,
        ),
        15,
    )


def aiosqlite_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if type(t).__module__.startswith("aiosqlite")]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    started: list[StandIn] = []

    async def _serve(**options: object) -> tuple[StandIn, SampleWorld]:
        standin = StandIn(**options)  # type: ignore[arg-type]
        await standin.start()
        started.append(standin)
        point_discord_at(standin.base_url)
        return standin, standin.seed_sample()

    try:
        yield _serve
    finally:
        for standin in started:
            await standin.stop()
        reset_discord_target()


async def test_a_wrong_token_raises_login_failure_and_releases_the_store(
    serve: Callable[..., object], tmp_path: Path
) -> None:
    standin, world = await serve(token="right")  # type: ignore[misc]
    before = len(aiosqlite_threads())
    with pytest.raises(discord.LoginFailure):
        await asyncio.wait_for(
            start_bot(settings(tmp_path, world), "wrong", ready_timeout=10, watch_policy=False),
            15,
        )
    await asyncio.sleep(0.05)
    assert len(aiosqlite_threads()) == before  # the store was closed
    assert standin.recorder.requests("GET", "GET /users/@me")[0].status == 401


async def test_a_missing_members_intent_is_named(
    serve: Callable[..., object], tmp_path: Path
) -> None:
    standin, world = await serve(privileged_intents=set())  # type: ignore[misc]
    with pytest.raises(MissingIntents) as caught:
        await asyncio.wait_for(
            start_bot(settings(tmp_path, world), "any", ready_timeout=10, watch_policy=False),
            15,
        )
    assert "Server Members Intent" in str(caught.value)
    # named before the gateway was ever opened (which would close with 4014)
    assert standin.gateway.sessions == {}


async def test_without_message_content_the_bot_still_starts(
    serve: Callable[..., object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _standin, world = await serve(privileged_intents={"members"})  # type: ignore[misc]
    running = await start(tmp_path, world)
    try:
        assert not running.bot.intents.message_content
        assert running.bot.intents.members
        assert "Message Content intent is not enabled" in caplog.text
    finally:
        await asyncio.wait_for(running.stop(), 15)


async def test_a_good_start_decides_a_join(serve: Callable[..., object], tmp_path: Path) -> None:
    standin, world = await serve()  # type: ignore[misc]
    running = await start(tmp_path, world)
    try:
        # discord.py's own owner check follows FOLLOWBACK_OWNER_ID
        assert running.bot.owner_id == world.owner_id
        assert await running.bot.is_owner(discord.Object(world.owner_id))  # type: ignore[arg-type]
        uid = await standin.join(world.guild_id, username="fb_ann", avatar="c0ffee")
        for _ in range(200):
            if await running.store.decisions_for(world.guild_id, uid):
                break
            await asyncio.sleep(0.025)
        (decision,) = await running.store.decisions_for(world.guild_id, uid)
        assert decision.rule == "follow now"
    finally:
        await asyncio.wait_for(running.stop(), 15)


# --- `followback run` -----------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No .env, no settings from the developer's environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("DISCORD_TOKEN", "FOLLOWBACK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    import os

    for name in list(os.environ):
        if name.startswith("FOLLOWBACK_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_run_with_a_malformed_owner_id_exits_2_naming_it(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("FOLLOWBACK_OWNER_ID", "not-a-number")
    assert main(["run"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "FOLLOWBACK_OWNER_ID" in lines[0]
    assert captured.out == ""


@pytest.fixture
def threaded_standin() -> Iterator[Callable[..., StandIn]]:
    """A stand-in on its own event loop thread, for `run_bot` (which calls asyncio.run)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    started: list[StandIn] = []

    def _start(**options: object) -> StandIn:
        async def go() -> StandIn:
            standin = StandIn(**options)  # type: ignore[arg-type]
            await standin.start()
            standin.seed_sample()
            return standin

        standin = asyncio.run_coroutine_threadsafe(go(), loop).result(10)
        started.append(standin)
        return standin

    try:
        yield _start
    finally:
        for standin in started:
            asyncio.run_coroutine_threadsafe(standin.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
        reset_discord_target()


def test_run_with_a_refused_token_exits_1_and_says_so(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    threaded_standin: Callable[..., StandIn],
    tmp_path: Path,
) -> None:
    standin = threaded_standin(token="right")
    clean_env.setenv("DISCORD_TOKEN", "wrong")
    clean_env.setenv("FOLLOWBACK_API_BASE", standin.base_url)
    clean_env.setenv("FOLLOWBACK_POLICY", str(POLICY))
    clean_env.setenv("FOLLOWBACK_DATABASE", str(tmp_path / "bot.sqlite3"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "refused the token" in err
    assert "wrong" not in err  # the token itself is never printed


def test_run_with_the_members_intent_off_exits_1_and_says_where_to_enable_it(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    threaded_standin: Callable[..., StandIn],
    tmp_path: Path,
) -> None:
    standin = threaded_standin(privileged_intents=set())
    clean_env.setenv("DISCORD_TOKEN", "some-token")
    clean_env.setenv("FOLLOWBACK_API_BASE", standin.base_url)
    clean_env.setenv("FOLLOWBACK_POLICY", str(POLICY))
    clean_env.setenv("FOLLOWBACK_DATABASE", str(tmp_path / "bot.sqlite3"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "Server Members Intent" in err
    assert "Developer Portal" in err


def test_run_with_a_broken_policy_exits_1_naming_the_problem(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    threaded_standin: Callable[..., StandIn],
    tmp_path: Path,
) -> None:
    standin = threaded_standin()
    broken = tmp_path / "broken.yaml"
    broken.write_text(POLICY.read_text().replace("then: {observe: 2h}", "then: {observe: soon}"))
    clean_env.setenv("DISCORD_TOKEN", "some-token")
    clean_env.setenv("FOLLOWBACK_API_BASE", standin.base_url)
    clean_env.setenv("FOLLOWBACK_POLICY", str(broken))
    clean_env.setenv("FOLLOWBACK_DATABASE", str(tmp_path / "bot.sqlite3"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "policy file has problems" in err and "broken.yaml" in err


# --- the run log ----------------------------------------------------------------------------

PLANTED_TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GplAnt.ed-token_for-the-log-test-0123456789"


async def test_the_run_log_shows_the_start_and_each_decision_and_never_the_token(
    serve: Callable[..., object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The stand-in takes only this token, so the bot surely used it.
    standin, world = await serve(token=PLANTED_TOKEN)  # type: ignore[misc]
    config = settings(tmp_path, world).model_copy(update={"token": SecretStr(PLANTED_TOKEN)})
    caplog.set_level(logging.DEBUG)  # everything any logger says, discord.py's included
    run = asyncio.create_task(_run_forever(config, PLANTED_TOKEN))
    try:
        await asyncio.wait_for(_logged(caplog, "caught up with guild"), 15)
        await standin.join(world.guild_id, username="fb_ann", avatar="c0ffee")
        await asyncio.wait_for(_logged(caplog, "gave the follow-back role to fb_ann"), 15)
    finally:
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(run, 15)
    run_lines = [r.getMessage() for r in caplog.records if r.name == "bot.run"]
    assert run_lines[:4] == [
        f"policy: {POLICY} (version {load_policy(POLICY).version})",
        f"database: {tmp_path / 'bot.sqlite3'}",
        f"guilds watched: {world.guild_id}",
        "intents: guilds, members, guild_messages, guild_reactions, message_content",
    ]
    decided = [line for line in run_lines if line.startswith("fb_ann: follow_back by rule")]
    assert len(decided) == 1 and "why: matched username 'fb_ann'" in decided[0]
    assert all(
        r.levelno == logging.INFO
        for r in caplog.records
        if r.name == "bot.run" and "fb_ann" in r.getMessage()
    )
    # The token is never printed, whole or in part, at any level, by any logger.
    assert any(r.name.startswith("discord") and r.levelno == logging.DEBUG for r in caplog.records)
    text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    for part in PLANTED_TOKEN.split("."):
        assert part not in text
    assert PLANTED_TOKEN not in caplog.text


async def _logged(caplog: pytest.LogCaptureFixture, words: str) -> None:
    for _ in range(300):
        if any(words in r.getMessage() for r in caplog.records):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never logged: {words!r}")
