"""Slash commands are synced at start-up only when they changed: a hash of the command
payloads per guild is kept in the store (discord.py has no "changed?" check, and Discord
allows 200 command creates per day per guild)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import discord
from discord import app_commands

log = logging.getLogger(__name__)

GLOBAL_SCOPE = 0


class SyncLog(Protocol):
    async def synced_commands_hash(self, scope: int) -> str | None: ...

    async def record_commands_synced(self, scope: int, payload_hash: str, at: datetime) -> None: ...


def payload_hash(tree: app_commands.CommandTree[Any], guild: discord.Object | None) -> str:
    payloads = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
    payloads.sort(key=lambda p: (p.get("type", 1), p["name"]))
    text = json.dumps(payloads, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def sync_if_changed(
    tree: app_commands.CommandTree[Any],
    guild_ids: Sequence[int],
    sync_log: SyncLog,
    now: datetime,
) -> list[int]:
    """Sync the global commands to each watched guild (or globally when all guilds are
    watched) where their hash differs from the stored one; returns the scopes synced.
    A refused sync is logged, never fatal: the bot still follows back."""
    synced: list[int] = []
    scopes: list[discord.Object | None] = (
        [discord.Object(g) for g in guild_ids] if guild_ids else [None]
    )
    for guild in scopes:
        if guild is not None:
            tree.clear_commands(guild=guild)
            tree.copy_global_to(guild=guild)
        scope = GLOBAL_SCOPE if guild is None else guild.id
        digest = payload_hash(tree, guild)
        if await sync_log.synced_commands_hash(scope) == digest:
            log.info("slash commands unchanged for %s: not synced", scope or "all guilds")
            continue
        try:
            await tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.warning("slash commands not synced to %s: %s", scope or "all guilds", exc)
            continue
        await sync_log.record_commands_synced(scope, digest, now)
        synced.append(scope)
    return synced
