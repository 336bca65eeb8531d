"""`followback run`'s guard rails: log in before anything is created, one bot per database,
and one line (with what to do next) for every failure a user can cause or meet."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import discord
import yarl

from bot.client.bot import MissingIntents
from bot.policy import PolicyError
from bot.settings import Settings

LOGIN_TIMEOUT = 30.0  # seconds; a black-holed route would otherwise wait for aiohttp's 5 min
PORTAL = "Discord Developer Portal -> your application -> Bot"


class DatabaseInUse(Exception):
    """Another running followback holds the database's lock file."""

    def __init__(self, database: Path, holder: str) -> None:
        super().__init__(f"{database} is in use by {holder}")
        self.database = database
        self.holder = holder


async def check_login(token: str, timeout: float = LOGIN_TIMEOUT) -> None:
    """GET /users/@me with the token: the network, the API base and the token all work."""
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        await asyncio.wait_for(http.static_login(token), timeout)
    finally:
        await http.close()


@contextlib.contextmanager
def lock_database(database: Path) -> Iterator[None]:
    """Hold `<database>.lock` while the bot runs, so a second bot on the same file stops."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): SQLite's own locking still protects the data
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    lock_path = database.with_name(database.name + ".lock")
    with open(lock_path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip()
            raise DatabaseInUse(database, f"process {pid}" if pid else "another process") from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def _where(settings: Settings) -> str:
    url = yarl.URL(settings.api_base or discord.http.Route.BASE)
    return f"{url.host}:{url.port}" if url.port else str(url.host)


def _network_hint(settings: Settings) -> str:
    if settings.api_base:
        return (
            f"is the server at FOLLOWBACK_API_BASE={settings.api_base} running "
            "(for the stand-in: `followback standin`)? Fix or blank it in .env, then run again"
        )
    return "check the network connection (and any proxy or firewall), then run again"


def describe_failure(exc: BaseException, settings: Settings) -> str | None:
    """One line (the policy's problems: one per line) for a known failure; None for a bug."""
    where = _where(settings)
    if isinstance(exc, DatabaseInUse):
        return (
            f"another followback ({exc.holder}) is using {exc.database}: stop it first, "
            "or set FOLLOWBACK_DATABASE to another file"
        )
    if isinstance(exc, discord.LoginFailure):
        return (
            "Discord refused the token in DISCORD_TOKEN (401): copy a new one from "
            f"{PORTAL} -> Reset Token into .env"
        )
    if isinstance(exc, MissingIntents):
        return f"{exc} (then run again)"
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return (
            f"a privileged intent is not enabled: enable it under {PORTAL} -> Privileged "
            "Gateway Intents (Server Members Intent; Message Content Intent), then run again"
        )
    if isinstance(exc, PolicyError):
        return f"the policy file has problems (fix them and run again):\n{exc}"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot find {where} (DNS lookup failed): {_network_hint(settings)}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = exc.os_error.strerror or str(exc.os_error)
        return f"cannot connect to {where} ({reason}): {_network_hint(settings)}"
    if isinstance(exc, aiohttp.ClientError | ConnectionError):
        return f"lost the connection to {where} ({exc}): {_network_hint(settings)}"
    if isinstance(exc, discord.HTTPException):
        return (
            f"{where} answered {exc.status} {exc.response.reason} to the login: "
            "Discord may be down; try again in a few minutes"
        )
    if isinstance(exc, discord.GatewayNotFound | discord.ConnectionClosed):
        return f"cannot open the gateway at {where}: Discord may be down; try again later"
    if isinstance(exc, TimeoutError):
        return f"no answer from {where} in time: {_network_hint(settings)}"
    if isinstance(exc, sqlite3.Error):
        return (
            f"cannot use the database {settings.database} ({exc}): check FOLLOWBACK_DATABASE, "
            "the file and its folder's permissions"
        )
    if isinstance(exc, OSError) and exc.filename:
        return (
            f"cannot use {exc.filename} ({exc.strerror}): check FOLLOWBACK_DATABASE and "
            "FOLLOWBACK_POLICY and their folders' permissions"
        )
    return None
