"""The bot_settings table: small durable settings changed at run time (paused)."""

from __future__ import annotations

import sqlite3

_GET = "SELECT value FROM bot_settings WHERE key = ?"
_SET = """
INSERT INTO bot_settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
    updated_at = excluded.updated_at
"""


def get_setting(conn: sqlite3.Connection, key: str) -> str | None:
    raw = conn.execute(_GET, (key,)).fetchone()
    return None if raw is None else str(raw[0])


def set_setting(conn: sqlite3.Connection, key: str, value: str, by: int | None, at: str) -> None:
    conn.execute(_SET, (key, value, by, at))
