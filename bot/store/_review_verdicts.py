"""The review_verdicts table (one verdict per held review: its primary key makes a
decision act once) and the review_queue view (which reviews are still pending)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.store.db import from_db, placeholders

_QUEUE = """
SELECT decision_id, guild_id, user_id, username, display_name, rule, held_at, policy_version
FROM review_queue WHERE pending
"""
_VERDICT = """
SELECT decision_id, guild_id, user_id, verdict, decided_by, decided_at, via, owner_decision_id
FROM review_verdicts WHERE decision_id = ?
"""
_STATE = "SELECT pending FROM review_queue WHERE decision_id = ?"
_INSERT = """
INSERT INTO review_verdicts (decision_id, guild_id, user_id, verdict, decided_by, decided_at,
    via, owner_decision_id)
VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
ON CONFLICT (decision_id) DO NOTHING
"""
_LINK = "UPDATE review_verdicts SET owner_decision_id = ? WHERE decision_id = ?"
_PENDING_FOR_MEMBER = (
    "SELECT decision_id FROM review_queue WHERE pending AND guild_id = ? AND user_id = ?"
)


@dataclass(frozen=True, slots=True)
class PendingReviewRow:
    decision_id: int
    guild_id: int
    user_id: int
    username: str
    display_name: str
    rule: str
    held_at: datetime
    policy_version: str


@dataclass(frozen=True, slots=True)
class VerdictRow:
    decision_id: int
    guild_id: int
    user_id: int
    verdict: str  # approve, decline, follow, unfollow
    decided_by: int
    decided_at: datetime
    via: str  # button, command
    owner_decision_id: int | None


def pending_reviews(
    conn: sqlite3.Connection, guild_ids: Collection[int] | None, limit: int, offset: int
) -> tuple[list[PendingReviewRow], int]:
    """Held reviews, newest first, one page of them, and how many there are in all."""
    sql = _QUEUE
    params: tuple[int, ...] = ()
    if guild_ids:
        sql += f" AND guild_id IN ({placeholders(guild_ids)})"
        params = tuple(guild_ids)
    total = conn.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0]  # noqa: S608
    rows = conn.execute(
        f"{sql} ORDER BY decision_id DESC LIMIT ? OFFSET ?", (*params, limit, offset)
    )
    return [_pending(raw) for raw in rows.fetchall()], int(total)


def _pending(raw: Sequence[object]) -> PendingReviewRow:
    did, guild, user, username, shown, rule, at, version = raw
    return PendingReviewRow(
        int(did), int(guild), int(user), str(username), str(shown), str(rule),  # type: ignore[call-overload]
        from_db(str(at)), str(version),
    )  # fmt: skip


def review_state(conn: sqlite3.Connection, decision_id: int) -> bool | None:
    """True: pending; False: a review no longer pending; None: no such review."""
    raw = conn.execute(_STATE, (decision_id,)).fetchone()
    return None if raw is None else bool(raw[0])


def pending_review_of(conn: sqlite3.Connection, guild_id: int, user_id: int) -> int | None:
    raw = conn.execute(_PENDING_FOR_MEMBER, (guild_id, user_id)).fetchone()
    return None if raw is None else int(raw[0])


def verdict_for(conn: sqlite3.Connection, decision_id: int) -> VerdictRow | None:
    raw = conn.execute(_VERDICT, (decision_id,)).fetchone()
    if raw is None:
        return None
    did, guild, user, verdict, by, at, via, owner_decision = raw
    return VerdictRow(
        int(did), int(guild), int(user), str(verdict), int(by), from_db(at), str(via),
        None if owner_decision is None else int(owner_decision),
    )  # fmt: skip


def insert_verdict(
    conn: sqlite3.Connection,
    decision_id: int,
    guild_id: int,
    user_id: int,
    verdict: str,
    actor_id: int,
    via: str,
    at: str,
) -> bool:
    """False when the review already has a verdict (nothing written)."""
    cur = conn.execute(_INSERT, (decision_id, guild_id, user_id, verdict, actor_id, at, via))
    return cur.rowcount == 1


def link_verdict(conn: sqlite3.Connection, decision_id: int, owner_decision_id: int) -> None:
    conn.execute(_LINK, (owner_decision_id, decision_id))
