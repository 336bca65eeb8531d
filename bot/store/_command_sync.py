"""The command_sync table: the hash of the slash commands last synced, per guild."""

from __future__ import annotations

import sqlite3

GLOBAL_SCOPE = 0  # commands synced globally rather than to one guild

_GET = "SELECT payload_hash FROM command_sync WHERE scope = ?"
_SET = """
INSERT INTO command_sync (scope, payload_hash, synced_at) VALUES (?, ?, ?)
ON CONFLICT (scope) DO UPDATE SET payload_hash = excluded.payload_hash,
    synced_at = excluded.synced_at
"""


def synced_hash(conn: sqlite3.Connection, scope: int) -> str | None:
    raw = conn.execute(_GET, (scope,)).fetchone()
    return None if raw is None else str(raw[0])


def record_sync(conn: sqlite3.Connection, scope: int, payload_hash: str, at: str) -> None:
    conn.execute(_SET, (scope, payload_hash, at))
