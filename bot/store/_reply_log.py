"""The reply_log table: auto-replies sent, for the per-person reply cooldown."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.store.db import from_db_or_none

_INSERT = "INSERT INTO reply_log (guild_id, user_id, template, at) VALUES (?, ?, ?, ?)"
_LAST = "SELECT MAX(at) FROM reply_log WHERE guild_id = ? AND user_id = ?"
_LAST_OF = "SELECT MAX(at) FROM reply_log WHERE guild_id = ? AND user_id = ? AND template = ?"


def record_reply(
    conn: sqlite3.Connection, guild_id: int, user_id: int, template: str, at: str
) -> None:
    conn.execute(_INSERT, (guild_id, user_id, template, at))


def last_reply_at(conn: sqlite3.Connection, guild_id: int, user_id: int) -> datetime | None:
    return from_db_or_none(conn.execute(_LAST, (guild_id, user_id)).fetchone()[0])


def last_reply_of(
    conn: sqlite3.Connection, guild_id: int, user_id: int, template: str
) -> datetime | None:
    """When this person last got this template (the cooldown is per person per template)."""
    return from_db_or_none(conn.execute(_LAST_OF, (guild_id, user_id, template)).fetchone()[0])
