"""Fixtures shared across the suite: a stand-in Discord that discord.py points at."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.client.target import point_discord_at, reset_discord_target
from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import TOKEN


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    server = StandIn(token=TOKEN)
    await server.start()
    point_discord_at(server.base_url)
    try:
        yield server
    finally:
        await server.stop()
        reset_discord_target()


@pytest.fixture
def world(standin: StandIn) -> SampleWorld:
    return standin.seed_sample()
