"""Fixtures: a running StandIn and bare discord.py clients connected to it over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import discord
import pytest

from bot.standin import SampleWorld, StandIn
from tests.standin.helpers import TOKEN, BareClient, all_intents

Connect = Callable[..., Awaitable[BareClient]]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def connect(standin: StandIn) -> AsyncIterator[Connect]:
    """connect(intents=None, setup=None, wait_ready=True, **options) -> a started BareClient."""
    started: list[tuple[BareClient, asyncio.Task[None]]] = []

    async def _connect(
        intents: discord.Intents | None = None,
        *,
        setup: Callable[[BareClient], Awaitable[None]] | None = None,
        wait_ready: bool = True,
        token: str = TOKEN,
        **options: Any,
    ) -> BareClient:
        client = BareClient(intents or all_intents(), **options)
        client.setup = setup
        task = asyncio.create_task(client.start(token))
        started.append((client, task))
        if wait_ready:
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait({ready, task}, timeout=10, return_when="FIRST_COMPLETED")
            if ready not in done:
                ready.cancel()
                if task in done:
                    task.result()  # raise what start() raised
                raise TimeoutError("client never became ready")
        return client

    yield _connect
    for client, task in started:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 5)
        if not task.done():
            task.cancel()
        with contextlib.suppress(BaseException):
            await task


@pytest.fixture
async def bot(world: SampleWorld, connect: Connect) -> BareClient:
    """A connected bare client with members + message content intents, sample guild loaded."""
    return await connect()
