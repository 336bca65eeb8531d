from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.service.clock import ScaledClock
from bot.service.followers import FollowerService
from bot.service.policy_holder import PolicyHolder
from bot.store import Store
from tests.service.helpers import BOT, OWNER, T0, FakeDirectory, HookLog, write_policy


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "x.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def policies(tmp_path: Path) -> PolicyHolder:
    return write_policy(tmp_path / "policy.yaml")


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def hooks_log() -> HookLog:
    return HookLog()


@pytest.fixture
async def service(
    store: Store, policies: PolicyHolder, directory: FakeDirectory, hooks_log: HookLog
) -> AsyncIterator[FollowerService]:
    followers = FollowerService(
        store,
        policies,
        ScaledClock(T0, speed=1.0),
        directory,
        bot_user_id=BOT,
        churn_window=timedelta(days=7),
        owner_id=OWNER,
        hooks=hooks_log.hooks(),
        events=hooks_log.bus(),
    )
    followers.start()
    try:
        yield followers
    finally:
        await asyncio.wait_for(followers.stop(), 5)
