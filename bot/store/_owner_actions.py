"""The owner_actions table: every owner action (who, what, when), shown by /explain."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.store.db import from_db

_INSERT = """
INSERT INTO owner_actions (actor_id, action, guild_id, user_id, detail, policy_version, at)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
_COLUMNS = "id, actor_id, action, guild_id, user_id, detail, policy_version, at"
_FOR_MEMBER = f"SELECT {_COLUMNS} FROM owner_actions WHERE guild_id = ? AND user_id = ? ORDER BY id"  # noqa: S608
_RECENT = f"SELECT {_COLUMNS} FROM owner_actions ORDER BY id DESC LIMIT ?"  # noqa: S608


@dataclass(frozen=True, slots=True)
class OwnerActionRow:
    id: int
    actor_id: int
    action: str  # approve, decline, follow, unfollow, list_add, list_remove, pause, ...
    guild_id: int | None
    user_id: int | None
    detail: str
    policy_version: str
    at: datetime


def _row(raw: tuple[object, ...]) -> OwnerActionRow:
    id_, actor, action, guild, user, detail, version, at = raw
    return OwnerActionRow(
        int(id_),  # type: ignore[call-overload]
        int(actor),  # type: ignore[call-overload]
        str(action),
        None if guild is None else int(guild),  # type: ignore[call-overload]
        None if user is None else int(user),  # type: ignore[call-overload]
        str(detail),
        str(version),
        from_db(str(at)),
    )


def record_owner_action(
    conn: sqlite3.Connection,
    actor_id: int,
    action: str,
    at: str,
    *,
    guild_id: int | None = None,
    user_id: int | None = None,
    detail: str = "",
    policy_version: str = "",
) -> int:
    cur = conn.execute(_INSERT, (actor_id, action, guild_id, user_id, detail, policy_version, at))
    assert cur.lastrowid is not None
    return cur.lastrowid


def owner_actions_for(
    conn: sqlite3.Connection, guild_id: int, user_id: int
) -> list[OwnerActionRow]:
    return [_row(raw) for raw in conn.execute(_FOR_MEMBER, (guild_id, user_id)).fetchall()]


def recent_owner_actions(conn: sqlite3.Connection, limit: int) -> list[OwnerActionRow]:
    return [_row(raw) for raw in conn.execute(_RECENT, (limit,)).fetchall()]


_BETWEEN = "SELECT COUNT(*) FROM owner_actions WHERE at >= ? AND at < ?"


def owner_actions_between(conn: sqlite3.Connection, start: str, end: str) -> int:
    return int(conn.execute(_BETWEEN, (start, end)).fetchone()[0])
