"""The channel_cursors table: the last message the bot saw per channel, where the start-up
catch-up of mentions begins."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

_SAVE = """
INSERT INTO channel_cursors (channel_id, guild_id, last_message_id, seen_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (channel_id) DO UPDATE SET
    last_message_id = MAX(last_message_id, excluded.last_message_id),
    seen_at = excluded.seen_at
"""
_IN_GUILD = "SELECT channel_id, last_message_id FROM channel_cursors WHERE guild_id = ?"


def save_cursors(
    conn: sqlite3.Connection, cursors: Iterable[tuple[int, int, int]], now: str
) -> None:
    """(channel, guild, last message id) per channel; a cursor never moves back."""
    conn.executemany(_SAVE, [(c, g, m, now) for c, g, m in cursors])


def cursors(conn: sqlite3.Connection, guild_id: int) -> dict[int, int]:
    return {int(c): int(m) for c, m in conn.execute(_IN_GUILD, (guild_id,)).fetchall()}
