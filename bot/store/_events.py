"""The events table: every follower event, stored before anything is done about it."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from bot.store.db import dump_json, placeholders, to_db
from bot.store.rows import EventRow, JoinInput, columns, event_row

_INSERT = "INSERT INTO events (guild_id, user_id, kind, payload, at) VALUES (?, ?, ?, ?, ?)"
_MARK_PROCESSED = "UPDATE events SET processed_at = ? WHERE id = ? AND processed_at IS NULL"
_UNPROCESSED = f"SELECT {columns(EventRow)} FROM events WHERE processed_at IS NULL"  # noqa: S608
_COUNT_UNPROCESSED = "SELECT COUNT(*) FROM events WHERE processed_at IS NULL"


def insert_event(
    conn: sqlite3.Connection, guild_id: int, user_id: int, kind: str, payload: str, at: str
) -> int:
    """Store an event (``payload``: JSON text, ``at``: stored time); returns its id."""
    cur = conn.execute(_INSERT, (guild_id, user_id, kind, payload, at))
    assert cur.lastrowid is not None
    return cur.lastrowid


def mark_processed(conn: sqlite3.Connection, event_id: int, at: str) -> None:
    """The first time stays: a second call changes nothing."""
    conn.execute(_MARK_PROCESSED, (at, event_id))


def unprocessed_events(conn: sqlite3.Connection, kinds: Collection[str] | None) -> list[EventRow]:
    """Events never processed (of these kinds), oldest first."""
    sql = _UNPROCESSED
    params: tuple[str, ...] = ()
    if kinds is not None:
        if not kinds:
            return []
        params = tuple(kinds)
        sql += f" AND kind IN ({placeholders(params)})"
    return [event_row(raw) for raw in conn.execute(sql + " ORDER BY id", params).fetchall()]


def count_unprocessed(conn: sqlite3.Connection, kinds: Collection[str]) -> int:
    if not kinds:
        return 0
    params = tuple(kinds)
    sql = f"{_COUNT_UNPROCESSED} AND kind IN ({placeholders(params)})"
    return int(conn.execute(sql, params).fetchone()[0])


def join_payload(join: JoinInput) -> str:
    """A join event's payload as JSON text."""
    if join.payload:
        return dump_json(
            {"pending": join.pending, "joined_at": to_db(join.joined_at)} | join.payload
        )
    # The common case, written without the JSON encoder (a burst has thousands).
    pending = "true" if join.pending else "false"
    return f'{{"pending":{pending},"joined_at":"{to_db(join.joined_at)}"}}'
