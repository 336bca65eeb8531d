"""`followback run`'s guard rails: one line with what to do next, one bot per database."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import aiohttp
import discord
import pytest

from bot.client.bot import MissingIntents
from bot.settings import Settings
from bot.startup import DatabaseInUse, check_login, describe_failure, lock_database


def settings(tmp_path: Path, api_base: str | None = None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database=tmp_path / "data" / "bot.sqlite3",
        api_base=api_base,
    )


def one_line(message: str | None) -> str:
    assert message is not None
    assert "\n" not in message
    return message


def test_a_second_lock_on_the_same_database_names_the_first(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    with lock_database(database):
        with pytest.raises(DatabaseInUse) as caught, lock_database(database):
            pass
        message = one_line(describe_failure(caught.value, settings(tmp_path)))
        assert "another followback" in message and "is using" in message
        assert str(database) in message and "FOLLOWBACK_DATABASE" in message
    with lock_database(database):  # released when the first bot stops
        pass
    assert not database.exists()  # the lock is beside the database, not the database


async def test_connection_refused_is_one_line_naming_the_api_base(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from bot.client.target import point_discord_at, reset_discord_target

    base = f"http://127.0.0.1:{port}"
    point_discord_at(base)
    try:
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            await check_login("any", timeout=10)
    finally:
        reset_discord_target()
    message = one_line(describe_failure(caught.value, settings(tmp_path, base)))
    assert f"cannot connect to 127.0.0.1:{port}" in message
    assert "FOLLOWBACK_API_BASE" in message


def test_a_dns_failure_says_to_check_the_network(tmp_path: Path) -> None:
    key = aiohttp.client_reqrep.ConnectionKey("discord.com", 443, True, True, None, None, None)
    error = aiohttp.ClientConnectorDNSError(key, OSError(-2, "Name or service not known"))
    message = one_line(describe_failure(error, settings(tmp_path)))
    assert "cannot find discord.com" in message and "check the network" in message


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (discord.LoginFailure("Improper token"), "Reset Token"),
        (MissingIntents("the Server Members intent is not enabled: ..."), "Server Members"),
        (sqlite3.OperationalError("database is locked"), "FOLLOWBACK_DATABASE"),
        (PermissionError(13, "Permission denied", "/x/y"), "Permission denied"),
        (TimeoutError(), "no answer"),
        (ConnectionResetError(104, "Connection reset by peer"), "lost the connection"),
    ],
)
def test_known_failures_are_one_line(tmp_path: Path, error: Exception, words: str) -> None:
    assert words in one_line(describe_failure(error, settings(tmp_path)))


def test_a_bug_is_not_dressed_up(tmp_path: Path) -> None:
    assert describe_failure(KeyError("x"), settings(tmp_path)) is None
