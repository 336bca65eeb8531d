"""The digest_snapshots table: each digest's pages, kept so its page buttons work later."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.store.db import dump_json, from_db

_RESERVE = "INSERT INTO digest_snapshots (local_date, reason, created_at) VALUES (?, ?, ?)"
_SET_PAGES = "UPDATE digest_snapshots SET pages = ? WHERE id = ?"
_ONE = "SELECT id, local_date, reason, pages, created_at FROM digest_snapshots WHERE id = ?"
# One page out of the JSON array, without loading the others.
_PAGE = (
    "SELECT json_extract(pages, '$[' || ? || ']'), json_array_length(pages) "
    "FROM digest_snapshots WHERE id = ?"
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    local_date: date
    reason: str
    pages: list[dict[str, Any]]
    created_at: datetime


def reserve_snapshot(conn: sqlite3.Connection, local_date: date, reason: str, at: str) -> int:
    """A snapshot row, pages to follow: the pages' buttons need its id first."""
    cursor = conn.execute(_RESERVE, (local_date.isoformat(), reason, at))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def set_pages(conn: sqlite3.Connection, snapshot_id: int, pages: list[dict[str, Any]]) -> None:
    conn.execute(_SET_PAGES, (dump_json(pages), snapshot_id))


def get_snapshot(conn: sqlite3.Connection, snapshot_id: int) -> Snapshot | None:
    raw = conn.execute(_ONE, (snapshot_id,)).fetchone()
    if raw is None:
        return None
    return Snapshot(raw[0], date.fromisoformat(raw[1]), raw[2], json.loads(raw[3]), from_db(raw[4]))


def get_page(
    conn: sqlite3.Connection, snapshot_id: int, page: int
) -> tuple[dict[str, Any] | None, int]:
    """(page `page`, the snapshot's page count); (None, 0) for an unknown snapshot."""
    raw = conn.execute(_PAGE, (page, snapshot_id)).fetchone()
    if raw is None:
        return None, 0
    return (None if raw[0] is None else json.loads(raw[0])), int(raw[1])
