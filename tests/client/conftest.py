"""A real discord.py client connected to the stand-in over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.standin import SampleWorld
from tests.standin.helpers import TOKEN, BareClient, all_intents


@pytest.fixture
async def client(world: SampleWorld) -> AsyncIterator[BareClient]:
    bot = BareClient(all_intents())
    task = asyncio.create_task(bot.start(TOKEN))
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({ready, task}, timeout=10, return_when="FIRST_COMPLETED")
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()
        raise TimeoutError("client never became ready")
    try:
        yield bot
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bot.close(), 5)
        if not task.done():
            task.cancel()
        with contextlib.suppress(BaseException):
            await task
