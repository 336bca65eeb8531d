"""The client's own logic that needs no connection: intents, own-role echoes, owners."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.client.bot import FollowbackBot, RoleEchoes, make_intents, owner_options
from bot.service.clock import ScaledClock
from bot.settings import Settings
from tests.service.helpers import GUILD, T0


def test_intents_ask_only_for_what_the_bot_uses() -> None:
    intents = make_intents()
    assert intents.members and intents.guilds and intents.guild_messages
    assert intents.message_content
    assert not intents.presences and not intents.dm_messages
    assert not make_intents(message_content=False).message_content
    assert make_intents(message_content=False).members


@pytest.fixture
async def bot() -> AsyncIterator[FollowbackBot]:
    client = FollowbackBot(
        settings=Settings(_env_file=None, guild_ids=[GUILD]),  # type: ignore[call-arg]
        clock=ScaledClock(T0),
    )
    try:
        yield client
    finally:
        await client.close()


async def test_an_own_role_change_echo_is_recognised_once(bot: FollowbackBot) -> None:
    assert not bot.is_role_echo(GUILD, 10)
    bot.expect_role_echo(GUILD, 10)
    assert not bot.is_role_echo(GUILD, 11)  # another member: the owner's hand
    assert bot.is_role_echo(GUILD, 10)
    assert not bot.is_role_echo(GUILD, 10)  # a second change is not ours


def test_role_echoes_that_never_come_are_forgotten_and_the_map_stays_bounded() -> None:
    now = [0.0]
    echoes = RoleEchoes(window=15.0, cap=100, clock=lambda: now[0])
    for user_id in range(50):
        echoes.expect(GUILD, user_id)
    now[0] = 16.0  # none of those echoes came within the window
    echoes.expect(GUILD, 1000)
    assert len(echoes) == 1  # the expired ones went on the next insert
    assert not echoes.is_echo(GUILD, 0)
    for user_id in range(1000):  # a burst inside the window: the cap holds
        echoes.expect(GUILD, user_id)
    assert len(echoes) == 100
    assert echoes.is_echo(GUILD, 999) and not echoes.is_echo(GUILD, 0)  # oldest went first
    now[0] = 20.0
    echoes.expect(GUILD, 998)  # expected again: its window starts again
    now[0] = 32.0
    assert echoes.is_echo(GUILD, 998) and not echoes.is_echo(GUILD, 997)


async def test_it_watches_only_the_configured_guilds(bot: FollowbackBot) -> None:
    assert bot.watches(GUILD)
    assert not bot.watches(GUILD + 1)


async def test_services_must_be_attached_before_the_cogs_use_them(bot: FollowbackBot) -> None:
    with pytest.raises(RuntimeError, match="attach"):
        _ = bot.services


def owners(**values: object) -> dict[str, object]:
    return owner_options(Settings(_env_file=None, **values))  # type: ignore[call-arg]


def test_is_owner_follows_the_owner_and_delegates_from_the_settings() -> None:
    # commands.Bot takes owner_id or owner_ids, never both
    assert owners() == {}
    assert owners(owner_id=7) == {"owner_id": 7}
    assert owners(owner_id=7, delegate_ids=[8, 9]) == {"owner_ids": {7, 8, 9}}
    assert owners(delegate_ids=[8]) == {"owner_ids": {8}}


async def test_is_owner_honours_followback_owner_id_and_the_delegates() -> None:
    settings = Settings(_env_file=None, owner_id=7, delegate_ids=[8])  # type: ignore[call-arg]
    client = FollowbackBot(settings=settings, clock=ScaledClock(T0))
    try:
        assert await client.is_owner(discord.Object(7))  # type: ignore[arg-type]
        assert await client.is_owner(discord.Object(8))  # type: ignore[arg-type]
        assert not await client.is_owner(discord.Object(9))  # type: ignore[arg-type]
    finally:
        await client.close()
