"""End-to-end fixtures: the real discord.py client against the stand-in over sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Running, start_bot
from bot.client.target import point_discord_at, reset_discord_target
from bot.service.clock import ScaledClock
from bot.service.events import Event, EventBus
from bot.settings import Settings
from bot.standin import SampleWorld, StandIn

POLICY = Path(__file__).with_name("e2e_policy.yaml")
SPEED = 3600.0  # a virtual hour per real second


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0) -> None:
    """Wait until `check` holds; fail the test with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


class Harness:
    """A stand-in world plus a bot that can be started, stopped and restarted."""

    def __init__(self, standin: StandIn, world: SampleWorld, database: Path) -> None:
        self.standin = standin
        self.world = world
        self.database = database
        self.clock = ScaledClock(datetime.now(UTC).replace(microsecond=0), speed=SPEED)
        self.running: Running | None = None
        self.events: list[Event] = []  # what the services told, across restarts
        self.bus = EventBus()
        self.bus.subscribe(self.events.append)

    @property
    def guild_id(self) -> int:
        return self.world.guild_id

    @property
    def role_id(self) -> int:
        return self.world.follow_back_role_id

    def settings(self, policy: Path = POLICY) -> Settings:
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            policy=policy,
            database=self.database,
            owner_id=self.world.owner_id,
            guild_ids=[self.world.guild_id],
        )

    async def start(self, policy: Path = POLICY, **options: Any) -> Running:
        assert self.running is None
        self.running = await start_bot(
            self.settings(policy),
            "test-token",
            clock=self.clock,
            events=self.bus,
            guild_ready_timeout=0.05,
            **({"watch_policy": False} | options),
        )
        return self.running

    async def stop(self) -> None:
        if self.running is not None:
            running, self.running = self.running, None
            await running.stop()

    @property
    def store(self) -> Any:
        assert self.running is not None
        return self.running.store

    async def join(self, username: str, *, age: timedelta = timedelta(days=400), **kw: Any) -> int:
        now = self.clock.now()
        kw.setdefault("avatar", "c0ffee")
        return await self.standin.join(
            self.guild_id, username=username, created_at=now - age, joined_at=now, **kw
        )

    async def decided(self, user_id: int, count: int = 1, timeout: float = 10.0) -> list[Any]:
        async def enough() -> bool:
            return len(await self.store.decisions_for(self.guild_id, user_id)) >= count

        await eventually(enough, timeout)
        return list(await self.store.decisions_for(self.guild_id, user_id))

    async def idle(self, timeout: float = 10.0) -> None:
        """The outbox has nothing due and every stored follower event is decided."""

        async def quiet() -> bool:
            due = await self.store.due_actions(self.clock.now(), limit=1)
            sending = await self.store.in_doubt_actions()
            return not due and not sending and await self.store.events_without_decision() == 0

        await asyncio.sleep(0.2)
        await eventually(quiet, timeout)

    def has_role(self, user_id: int) -> bool:
        return self.role_id in self.standin.member_roles(self.guild_id, user_id)

    def role_puts(self, user_id: int) -> int:
        return sum(
            1
            for r in self.standin.recorder.requests("PUT")
            if r.path.endswith(f"/members/{user_id}/roles/{self.role_id}")
        )


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    standin = StandIn()
    await standin.start()
    point_discord_at(standin.base_url)
    world = standin.seed_sample()
    h = Harness(standin, world, tmp_path / "bot.sqlite3")
    try:
        yield h
    finally:
        await h.stop()
        await standin.stop()
        reset_discord_target()
