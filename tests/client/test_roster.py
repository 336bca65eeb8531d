"""Waiting for a complete member list: when it counts as complete, when the bot asks again.

events/gateway-events.mdx "Request Guild Members" (the list comes in chunks) and "Rate
Limited" (a second request for all members within 30 s gets `retry_after` instead).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.client.bot import FollowbackBot
from bot.client.roster import Backoff, MemberListWatch, is_complete
from bot.service.clock import ScaledClock
from bot.settings import Settings
from tests.service.helpers import GUILD, T0


@dataclass
class FakeGuild:
    """What discord.Guild offers the watch: its cache and Discord's member count."""

    id: int = GUILD
    name: str = "Fan Club"
    member_count: int | None = 5
    members: list[int] = field(default_factory=lambda: [1])

    @property
    def chunked(self) -> bool:  # discord.py's definition
        return self.member_count is not None and self.member_count == len(self.members)


class Requests:
    """Records each request; the `answered_from`th and later fill the list with `answer`."""

    def __init__(self, answer: list[int] | None = None, answered_from: int = 1) -> None:
        self.times: list[float] = []
        self.answer = answer
        self.answered_from = answered_from

    async def __call__(self, guild: Any) -> None:
        self.times.append(asyncio.get_running_loop().time())
        if self.answer is not None and len(self.times) >= self.answered_from:
            guild.members = list(self.answer)


def watch(requests: Requests, first: float = 0.05, cap: float = 0.2) -> MemberListWatch:
    return MemberListWatch(
        requests,
        backoff=Backoff(first=first, factor=2.0, cap=cap),
        poll_interval=0.005,
        clock=lambda: asyncio.get_running_loop().time(),
    )


def test_a_list_is_complete_only_when_it_accounts_for_the_member_count() -> None:
    assert not is_complete(FakeGuild(members=[1, 2]))
    assert is_complete(FakeGuild(member_count=2, members=[1, 2]))
    assert not is_complete(FakeGuild(member_count=None, members=[]))  # count unknown


def test_the_backoff_grows_and_is_bounded() -> None:
    backoff = Backoff(first=2.0, factor=2.0, cap=300.0)
    assert [backoff.delay(n) for n in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff.delay(8) == backoff.delay(10_000) == 300.0


async def test_a_complete_list_needs_no_request() -> None:
    requests = Requests()
    await watch(requests).wait_until_complete(FakeGuild(members=[1, 2, 3, 4, 5]))
    assert requests.times == []


async def test_it_asks_again_with_a_growing_delay_until_the_list_is_complete(
    caplog: pytest.LogCaptureFixture,
) -> None:
    requests = Requests([1, 2, 3, 4, 5], answered_from=3)  # two requests go unanswered
    guild = FakeGuild()
    members_watch = watch(requests)
    started = asyncio.get_running_loop().time()
    with caplog.at_level(logging.INFO, logger="bot.client.roster"):
        await asyncio.wait_for(members_watch.wait_until_complete(guild), 5)
    gaps = [b - a for a, b in zip([started, *requests.times], requests.times, strict=False)]
    assert len(requests.times) == 3 and members_watch.asked[GUILD] == 3
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # 0.05, 0.1, 0.2 (capped)
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "Fan Club" in warning.getMessage() and "1 of 5 members" in warning.getMessage()


async def test_rate_limited_moves_the_next_request_to_retry_after() -> None:
    requests = Requests([1, 2, 3, 4, 5])
    guild = FakeGuild()
    members_watch = watch(requests, first=0.01)
    loop = asyncio.get_running_loop()
    # discord.py's own request at start was answered with RATE_LIMITED
    members_watch.note_rate_limited(
        {"opcode": 8, "retry_after": 0.3, "meta": {"guild_id": str(GUILD), "nonce": "n"}}
    )
    limited_at = loop.time()
    await asyncio.wait_for(members_watch.wait_until_complete(guild), 5)
    (asked_at,) = requests.times
    assert asked_at - limited_at >= 0.3  # not at the 0.01 s backoff: Discord said when


async def test_no_request_goes_out_while_chunks_are_still_arriving() -> None:
    requests = Requests()
    guild = FakeGuild(member_count=40)
    members_watch = watch(requests, first=0.1)

    async def slow_chunks() -> None:
        for chunk in range(1, 40):
            await asyncio.sleep(0.02)  # each chunk well inside the backoff
            guild.members.append(chunk + 1)

    chunks = asyncio.create_task(slow_chunks())
    await asyncio.wait_for(members_watch.wait_until_complete(guild), 5)
    await chunks
    assert requests.times == []  # the answer was still coming in


async def test_rate_limited_for_another_opcode_or_without_a_guild_is_ignored() -> None:
    members_watch = watch(Requests())
    members_watch.note_rate_limited({"opcode": 99, "retry_after": 5, "meta": {"guild_id": "1"}})
    members_watch.note_rate_limited({"opcode": 8, "retry_after": 5, "meta": {}})
    members_watch.note_rate_limited({"opcode": 8, "retry_after": "soon", "meta": {"guild_id": 1}})
    assert members_watch.retry_at(1) is None


async def test_a_failed_request_is_tried_again_later() -> None:
    guild = FakeGuild()
    calls: list[int] = []

    async def disconnected(g: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise AttributeError("'NoneType' object has no attribute 'request_chunks'")
        g.members = [1, 2, 3, 4, 5]

    members_watch = MemberListWatch(
        disconnected, backoff=Backoff(first=0.01, cap=0.02), poll_interval=0.005
    )
    await asyncio.wait_for(members_watch.wait_until_complete(guild), 5)
    assert len(calls) == 2


async def test_the_bot_hears_rate_limited_dispatches_discord_py_ignores() -> None:
    """discord.py 2.7 has no parser for RATE_LIMITED; the bot adds one to its state's table,
    which the gateway looks events up in."""
    bot = FollowbackBot(
        settings=Settings(_env_file=None, guild_ids=[GUILD]),  # type: ignore[call-arg]
        clock=ScaledClock(T0),
    )
    try:
        parse = bot._connection.parsers["RATE_LIMITED"]
        parse({"opcode": 8, "retry_after": 12.5, "meta": {"guild_id": str(GUILD)}})
        retry_at = bot.member_lists.retry_at(GUILD)
        assert retry_at is not None and retry_at - asyncio.get_running_loop().time() > 12
    finally:
        await bot.close()
