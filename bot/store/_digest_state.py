"""The digest_state table (one row): the last local date a scheduled digest was sent."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from bot.store.db import from_db_or_none

_GET = "SELECT last_sent, last_at FROM digest_state WHERE id = 1"
# Conditional: a date not after the last one sent is refused (once per local day).
_ADVANCE = """
UPDATE digest_state SET last_sent = ?, last_at = ?
WHERE id = 1 AND (last_sent IS NULL OR last_sent < ?)
"""


@dataclass(frozen=True, slots=True)
class DigestState:
    last_sent: date | None  # the owner's local date of the last scheduled digest
    last_at: datetime | None  # when it was built


def get_state(conn: sqlite3.Connection) -> DigestState:
    raw = conn.execute(_GET).fetchone()
    if raw is None:
        return DigestState(None, None)
    last_sent = None if raw[0] is None else date.fromisoformat(raw[0])
    return DigestState(last_sent, from_db_or_none(raw[1]))


def advance(conn: sqlite3.Connection, local_date: date, at: str) -> bool:
    """Record `local_date` as sent; False if it is not after the last date sent."""
    day = local_date.isoformat()
    return conn.execute(_ADVANCE, (day, at, day)).rowcount == 1
