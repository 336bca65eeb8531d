"""The bot_settings table: small durable settings changed at run time (paused)."""

from __future__ import annotations

import sqlite3

_GET = "SELECT value FROM bot_settings WHERE key = ?"
_SET = """
INSERT INTO bot_settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
    updated_at = excluded.updated_at
"""
_MAKE_ONCE = """
INSERT INTO bot_settings (key, value, updated_by, updated_at)
VALUES (?, ?, NULL, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
ON CONFLICT (key) DO NOTHING
"""


def get_setting(conn: sqlite3.Connection, key: str) -> str | None:
    raw = conn.execute(_GET, (key,)).fetchone()
    return None if raw is None else str(raw[0])


def set_setting(conn: sqlite3.Connection, key: str, value: str, by: int | None, at: str) -> None:
    conn.execute(_SET, (key, value, by, at))


def setting_made_once(conn: sqlite3.Connection, key: str, value: str) -> str:
    """The stored value of `key`, storing `value` first if there is none (never replaced).
    Its time is SQLite's own: this runs as the database opens, before any clock is given."""
    conn.execute(_MAKE_ONCE, (key, value))
    stored = get_setting(conn, key)
    assert stored is not None
    return stored
