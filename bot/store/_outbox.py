"""The outbox table: role changes, DMs and replies, each sent at most once."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from bot.store._members import current_stay_condition
from bot.store.db import dump_json, from_db_or_none, placeholders, to_db
from bot.store.kinds import OutboxKind
from bot.store.rows import ActionSpec, OutboxRow, columns, outbox_row

_KINDS = frozenset(OutboxKind)
_SELECT = f"SELECT {columns(OutboxRow)} FROM outbox"  # noqa: S608 (constant columns)
_DUE = f"{_SELECT} WHERE status = 'pending' AND not_before <= ?"
_DUE_ORDER = " ORDER BY not_before, id LIMIT ?"
_IN_DOUBT = f"{_SELECT} WHERE status = 'sending' ORDER BY id"
_NEXT_DUE = "SELECT MIN(not_before) FROM outbox WHERE status = 'pending'"
# A row about a member's stay acts only while that stay is the member's current one.
_STAY_CURRENT = f"(outbox.stay IS NULL OR {current_stay_condition('outbox')})"
_ROLE_KINDS = (OutboxKind.ADD_ROLE, OutboxKind.REMOVE_ROLE)
_OPEN_ROLES = f"""
SELECT DISTINCT user_id FROM outbox
WHERE guild_id = ? AND status IN ('pending', 'sending') AND kind IN ({placeholders(_ROLE_KINDS)})
"""  # noqa: S608 (placeholders only)

_INSERT = """
INSERT INTO outbox (decision_id, guild_id, user_id, kind, payload, status, attempts,
    not_before, created_at, updated_at, stay)
VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)
"""
_CLAIM = f"""
UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?
WHERE id = ? AND status = 'pending' AND {_STAY_CURRENT}
"""  # noqa: S608 (constant text)
# Pending or in doubt, for a stay that has ended: never sent (or re-sent) any more.
_DROP_ENDED = f"""
UPDATE outbox SET status = 'cancelled', done_at = ?, updated_at = ?,
    last_error = COALESCE(?, last_error)
WHERE id = ? AND status IN ('pending', 'sending') AND NOT {_STAY_CURRENT}
"""  # noqa: S608 (constant text)
_CANCEL_IN_DOUBT = """
UPDATE outbox SET status = 'cancelled', done_at = ?, updated_at = ?, last_error = ?
WHERE id = ? AND status = 'sending'
"""
# What ending a stay cancels: the member's rows of that stay (or earlier) not yet sent.
_CANCEL_STAY = """
UPDATE outbox SET status = 'cancelled', done_at = ?, updated_at = ?
WHERE guild_id = ? AND user_id = ? AND status = 'pending' AND stay IS NOT NULL AND stay <= ?
"""
_COMPLETE = """
UPDATE outbox SET status = 'done', done_at = ?, updated_at = ?, result = ?
WHERE id = ? AND status = 'sending'
"""
_FAIL = """
UPDATE outbox SET status = 'failed', done_at = ?, updated_at = ?, last_error_code = ?,
    last_error = ?
WHERE id = ? AND status IN ('pending', 'sending')
"""
_RETRY = """
UPDATE outbox SET status = 'pending', not_before = ?, last_error_code = ?, last_error = ?,
    updated_at = COALESCE(?, updated_at)
WHERE id = ? AND status IN ('pending', 'sending')
"""
_UNCERTAIN = """
UPDATE outbox SET status = 'uncertain', done_at = ?, updated_at = ?, last_error = ?
WHERE id = ? AND status = 'sending'
"""
_CANCEL = """
UPDATE outbox SET status = 'cancelled', done_at = ?, updated_at = ?
WHERE guild_id = ? AND user_id = ? AND status = 'pending'
"""


def insert_actions(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int,
    actions: Sequence[ActionSpec],
    at: datetime,
    decision_id: int | None,
    stay: int | None = None,
) -> list[int]:
    """Queue outbox rows inside the caller's transaction; payloads are encoded here, so a
    payload JSON cannot hold (or an unknown kind) fails the whole transaction."""
    now = to_db(at)
    ids: list[int] = []
    for action in actions:
        if action.kind not in _KINDS:  # the table has no CHECK: the kinds are OutboxKind
            raise sqlite3.IntegrityError(f"unknown outbox kind {action.kind!r}")
        not_before = now if action.not_before is None else to_db(action.not_before)
        cur = conn.execute(
            _INSERT,
            (decision_id, guild_id, user_id, action.kind, dump_json(action.payload),
             not_before, now, now, stay),
        )  # fmt: skip
        assert cur.lastrowid is not None
        ids.append(cur.lastrowid)
    return ids


def due_actions(
    conn: sqlite3.Connection, now: str, limit: int, kinds: Collection[str] | None = None
) -> list[OutboxRow]:
    """Pending rows due by ``now`` (of these kinds), oldest first."""
    sql = _DUE
    params: tuple[str, ...] = (now,)
    if kinds is not None:
        sql += f" AND kind IN ({placeholders(kinds)})"
        params += tuple(kinds)
    rows = conn.execute(sql + _DUE_ORDER, (*params, limit)).fetchall()
    return [outbox_row(raw) for raw in rows]


def in_doubt_actions(conn: sqlite3.Connection) -> list[OutboxRow]:
    return [outbox_row(raw) for raw in conn.execute(_IN_DOUBT).fetchall()]


def next_action_due(
    conn: sqlite3.Connection, kinds: Collection[str] | None = None
) -> datetime | None:
    if kinds is None:
        return from_db_or_none(conn.execute(_NEXT_DUE).fetchone()[0])
    sql = f"{_NEXT_DUE} AND kind IN ({placeholders(kinds)})"
    return from_db_or_none(conn.execute(sql, tuple(kinds)).fetchone()[0])


def claim_action(conn: sqlite3.Connection, outbox_id: int, at: str) -> bool:
    """pending -> sending if its stay is still current; a row whose stay has ended is
    cancelled instead (False either way when not claimed)."""
    if conn.execute(_CLAIM, (at, outbox_id)).rowcount == 1:
        return True
    drop_if_stay_ended(conn, outbox_id, at, "its stay had ended")
    return False


def drop_if_stay_ended(conn: sqlite3.Connection, outbox_id: int, at: str, note: str) -> bool:
    """Cancel a pending or in-doubt row whose stay has ended; False if it is still current."""
    return conn.execute(_DROP_ENDED, (at, at, note, outbox_id)).rowcount == 1


def cancel_in_doubt(conn: sqlite3.Connection, outbox_id: int, at: str, note: str) -> bool:
    """An in-doubt row settled without acting (the member is gone: nothing to do)."""
    return conn.execute(_CANCEL_IN_DOUBT, (at, at, note, outbox_id)).rowcount == 1


def cancel_stay(conn: sqlite3.Connection, guild_id: int, user_id: int, stay: int, at: str) -> int:
    """Cancel the member's unsent rows of stays up to ``stay`` (a stay ended)."""
    return conn.execute(_CANCEL_STAY, (at, at, guild_id, user_id, stay)).rowcount


def open_role_members(conn: sqlite3.Connection, guild_id: int) -> set[int]:
    """Members with a role change of the bot's queued or in doubt."""
    rows = conn.execute(_OPEN_ROLES, (guild_id, *_ROLE_KINDS)).fetchall()
    return {raw[0] for raw in rows}


def complete_action(conn: sqlite3.Connection, outbox_id: int, at: str, result: str | None) -> bool:
    return conn.execute(_COMPLETE, (at, at, result, outbox_id)).rowcount == 1


def fail_action(
    conn: sqlite3.Connection, outbox_id: int, at: str, code: int | None, message: str
) -> bool:
    return conn.execute(_FAIL, (at, at, code, message, outbox_id)).rowcount == 1


def retry_action(
    conn: sqlite3.Connection,
    outbox_id: int,
    not_before: str,
    code: int | None,
    message: str,
    at: str | None,
) -> bool:
    params = (not_before, code, message, at, outbox_id)
    return conn.execute(_RETRY, params).rowcount == 1


def mark_uncertain(conn: sqlite3.Connection, outbox_id: int, at: str, note: str) -> bool:
    return conn.execute(_UNCERTAIN, (at, at, note, outbox_id)).rowcount == 1


def cancel_actions(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int,
    at: str,
    kinds: Collection[str] | None,
) -> int:
    """Cancel a member's pending actions (of these kinds); returns how many."""
    sql = _CANCEL
    params: tuple[Any, ...] = (at, at, guild_id, user_id)
    if kinds is not None:
        if not kinds:
            return 0
        sql += f" AND kind IN ({placeholders(kinds)})"
        params += tuple(kinds)
    return conn.execute(sql, params).rowcount


_ONE = f"{_SELECT} WHERE id = ?"
_FOR_MEMBER = f"{_SELECT} WHERE guild_id = ? AND user_id = ? ORDER BY id"


def get_action(conn: sqlite3.Connection, outbox_id: int) -> OutboxRow | None:
    raw = conn.execute(_ONE, (outbox_id,)).fetchone()
    return None if raw is None else outbox_row(raw)


def actions_for(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[OutboxRow]:
    return [outbox_row(raw) for raw in conn.execute(_FOR_MEMBER, (guild_id, user_id)).fetchall()]


_REFUSED_BETWEEN = (
    "SELECT COUNT(*) FROM outbox WHERE kind = 'dm' AND status = 'failed' "
    "AND done_at >= ? AND done_at < ?"
)


def dms_refused_between(conn: sqlite3.Connection, start: str, end: str) -> int:
    """For /stats: DMs to followers that Discord refused (or that failed for good)."""
    return int(conn.execute(_REFUSED_BETWEEN, (start, end)).fetchone()[0])
