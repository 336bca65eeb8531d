"""The dm_log table: every DM sent, for the daily cap, the spacing and the cooldown."""

from __future__ import annotations

import sqlite3

_INSERT = "INSERT INTO dm_log (user_id, outbox_id, sent_at) VALUES (?, ?, ?)"
_SENT_SINCE = "SELECT COUNT(*) FROM dm_log WHERE sent_at >= ?"
_LAST_TO_ANYONE = "SELECT MAX(sent_at) FROM dm_log"
_LAST_TO_USER = "SELECT MAX(sent_at) FROM dm_log WHERE user_id = ?"


def record_dm_sent(conn: sqlite3.Connection, user_id: int, outbox_id: int | None, at: str) -> None:
    conn.execute(_INSERT, (user_id, outbox_id, at))


def dm_counts(
    conn: sqlite3.Connection, user_id: int, day_start: str
) -> tuple[int, str | None, str | None]:
    """DMs sent since ``day_start``; the last DM to anyone; the last DM to this user."""
    (count,) = conn.execute(_SENT_SINCE, (day_start,)).fetchone()
    (last_any,) = conn.execute(_LAST_TO_ANYONE).fetchone()
    (last_user,) = conn.execute(_LAST_TO_USER, (user_id,)).fetchone()
    return count, last_any, last_user


def dms_sent_since(conn: sqlite3.Connection, since: str) -> int:
    return int(conn.execute(_SENT_SINCE, (since,)).fetchone()[0])


_SENT_BETWEEN = "SELECT COUNT(*) FROM dm_log WHERE sent_at >= ? AND sent_at < ?"


def dms_sent_between(conn: sqlite3.Connection, start: str, end: str) -> int:
    return int(conn.execute(_SENT_BETWEEN, (start, end)).fetchone()[0])
