"""The client's own logic that needs no connection: intents, own-role echoes, DM limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.client.bot import FollowbackBot, make_intents
from bot.service.clock import ScaledClock
from bot.service.policy_holder import PolicyHolder
from bot.settings import Settings
from bot.store import Store
from tests.service.helpers import GUILD, T0, write_policy


def test_intents_ask_only_for_what_the_bot_uses() -> None:
    intents = make_intents()
    assert intents.members and intents.guilds and intents.guild_messages
    assert intents.message_content
    assert not intents.presences and not intents.dm_messages
    assert not make_intents(message_content=False).message_content
    assert make_intents(message_content=False).members


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[FollowbackBot]:
    policies: PolicyHolder = write_policy(tmp_path / "policy.yaml")
    store = await Store.open(tmp_path / "x.sqlite3")
    client = FollowbackBot(
        settings=Settings(_env_file=None, guild_ids=[GUILD]),  # type: ignore[call-arg]
        store=store,
        policies=policies,
        clock=ScaledClock(T0),
    )
    try:
        yield client
    finally:
        await client.close()
        await store.close()


async def test_an_own_role_change_echo_is_recognised_once(bot: FollowbackBot) -> None:
    assert not bot.is_role_echo(GUILD, 10)
    bot.expect_role_echo(GUILD, 10)
    assert not bot.is_role_echo(GUILD, 11)  # another member: the owner's hand
    assert bot.is_role_echo(GUILD, 10)
    assert not bot.is_role_echo(GUILD, 10)  # a second change is not ours


async def test_it_watches_only_the_configured_guilds(bot: FollowbackBot) -> None:
    assert bot.watches(GUILD)
    assert not bot.watches(GUILD + 1)


async def test_dm_limits_come_from_the_policy_in_force(bot: FollowbackBot) -> None:
    limits = bot._dm_limits()
    assert limits.per_day == 40
    assert limits.spacing == timedelta(seconds=1)
    assert limits.cooldown == timedelta(days=1)
    assert limits.timezone == "Europe/Berlin"
