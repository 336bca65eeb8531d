"""The timers table: everything that falls due (late follow-backs, observe windows, ...),
each acting at most once."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.store.db import from_db_or_none
from bot.store.kinds import TimerKind
from bot.store.rows import TimerRow, TimerSpec, columns, timer_row

_KINDS = frozenset(TimerKind)
_SELECT = f"SELECT {columns(TimerRow)} FROM timers"  # noqa: S608 (constant columns)
_SCHEDULED = f"{_SELECT} WHERE status = 'scheduled' ORDER BY due, id"
_DUE = f"{_SELECT} WHERE status = 'scheduled' AND due <= ? ORDER BY due, id LIMIT ?"
_NEXT_DUE = "SELECT MIN(due) FROM timers WHERE status = 'scheduled'"
_COUNT_SCHEDULED = "SELECT COUNT(*) FROM timers WHERE status = 'scheduled'"

_INSERT = """
INSERT INTO timers (guild_id, user_id, kind, due, decision_id, status, created_at, stay)
VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?)
"""
_CLAIM = "UPDATE timers SET status = 'fired' WHERE id = ? AND status = 'scheduled'"
_FIRE = """
UPDATE timers SET status = 'fired', finished_at = ?, outcome = ?
WHERE id = ? AND status = 'scheduled'
RETURNING guild_id, user_id, decision_id, stay
"""
_FINISH = """
UPDATE timers SET status = 'fired', finished_at = ?, outcome = ?
WHERE id = ? AND status IN ('scheduled', 'fired')
"""
_POSTPONE = "UPDATE timers SET due = ? WHERE id = ? AND status = 'scheduled'"
_CANCEL_ONE = """
UPDATE timers SET status = 'cancelled', finished_at = ?, outcome = ?
WHERE id = ? AND status = 'scheduled'
"""
_CANCEL_MEMBER = """
UPDATE timers SET status = 'cancelled', finished_at = ?, outcome = ?
WHERE guild_id = ? AND user_id = ? AND status = 'scheduled'
"""
# A stay ended: its timers (and any older or from before stays were kept) never act.
_CANCEL_STAY = """
UPDATE timers SET status = 'cancelled', finished_at = ?, outcome = ?
WHERE guild_id = ? AND user_id = ? AND status = 'scheduled' AND (stay IS NULL OR stay <= ?)
"""


def insert_timer(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int,
    timer: TimerSpec,
    decision_id: int | None,
    now: str,
    due: str,
    stay: int | None = None,
) -> None:
    """Schedule a timer (``due`` and ``now`` as stored text). An unknown kind fails the
    caller's transaction (the table has no CHECK: the kinds are TimerKind)."""
    if timer.kind not in _KINDS:
        raise sqlite3.IntegrityError(f"unknown timer kind {timer.kind!r}")
    conn.execute(_INSERT, (guild_id, user_id, timer.kind, due, decision_id, now, stay))


def scheduled_timers(conn: sqlite3.Connection) -> list[TimerRow]:
    return [timer_row(raw) for raw in conn.execute(_SCHEDULED).fetchall()]


def count_scheduled(conn: sqlite3.Connection) -> int:
    return int(conn.execute(_COUNT_SCHEDULED).fetchone()[0])


def due_timers(conn: sqlite3.Connection, now: str, limit: int) -> list[TimerRow]:
    return [timer_row(raw) for raw in conn.execute(_DUE, (now, limit)).fetchall()]


def next_timer_due(conn: sqlite3.Connection) -> datetime | None:
    return from_db_or_none(conn.execute(_NEXT_DUE).fetchone()[0])


def claim_timer(conn: sqlite3.Connection, timer_id: int) -> bool:
    return conn.execute(_CLAIM, (timer_id,)).rowcount == 1


def fire_timer(
    conn: sqlite3.Connection, timer_id: int, at: str, outcome: str
) -> tuple[int, int, int | None, int | None] | None:
    """scheduled -> fired with its outcome: (guild, user, decision, stay), or None if it
    had already fired or been cancelled."""
    rows = conn.execute(_FIRE, (at, outcome, timer_id)).fetchall()
    return (rows[0][0], rows[0][1], rows[0][2], rows[0][3]) if rows else None


def finish_timer(conn: sqlite3.Connection, timer_id: int, at: str, outcome: str) -> bool:
    return conn.execute(_FINISH, (at, outcome, timer_id)).rowcount == 1


def postpone_timer(conn: sqlite3.Connection, timer_id: int, due: str) -> bool:
    return conn.execute(_POSTPONE, (due, timer_id)).rowcount == 1


def cancel_timer(conn: sqlite3.Connection, timer_id: int, at: str, outcome: str) -> bool:
    return conn.execute(_CANCEL_ONE, (at, outcome, timer_id)).rowcount == 1


def cancel_stay_timers(
    conn: sqlite3.Connection, guild_id: int, user_id: int, stay: int, at: str, outcome: str
) -> int:
    return conn.execute(_CANCEL_STAY, (at, outcome, guild_id, user_id, stay)).rowcount


def cancel_member_timers(
    conn: sqlite3.Connection, guild_id: int, user_id: int, at: str, outcome: str
) -> int:
    return conn.execute(_CANCEL_MEMBER, (at, outcome, guild_id, user_id)).rowcount


_ONE = f"{_SELECT} WHERE id = ?"
_FOR_MEMBER = f"{_SELECT} WHERE guild_id = ? AND user_id = ? ORDER BY id"


def get_timer(conn: sqlite3.Connection, timer_id: int) -> TimerRow | None:
    raw = conn.execute(_ONE, (timer_id,)).fetchone()
    return None if raw is None else timer_row(raw)


def timers_for(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[TimerRow]:
    return [timer_row(raw) for raw in conn.execute(_FOR_MEMBER, (guild_id, user_id)).fetchall()]
