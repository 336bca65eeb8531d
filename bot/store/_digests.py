"""The digest across tables: sending one (snapshot, date, outbox row in one transaction),
its one timer, and the reads that gather its content.

Reads that span tables go through views (the digest's migration defines digest_timer_items,
digest_action_items, digest_cleanup_items; the owner controls' review_queue), so each
table's own SQL stays in its module. Rows come back as small dataclasses; the digest
service shapes them into pages (the store knows no pages).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.store import _decisions, _digest_snapshots, _digest_state, _outbox, _timers
from bot.store.db import from_db, to_db
from bot.store.kinds import TimerKind
from bot.store.rows import ActionSpec, TimerSpec

DIGEST_TIMER_GUILD = 0  # the digest timer belongs to no guild and no member
DIGEST_TIMER_USER = 0
DIGEST_GUILD = 0  # nor does its outbox row


# (decision id, the member's display name, rule, held at): plain tuples, as a digest
# reads thousands of them at once (a frozen dataclass each costs more than the query).
ReviewItem = tuple[int, str, str, datetime]


@dataclass(frozen=True, slots=True)
class TimerItem:
    timer_id: int
    member: str
    rule: str
    due: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FailedAction:
    outbox_id: int
    kind: str
    status: str  # failed or uncertain
    member: str
    code: int | None
    error: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CleanupItem:
    member: str
    silent: bool  # True: followed back and silent; False: left soon after
    since: datetime  # when followed back, or when they left


# --- sending -----------------------------------------------------------------------------
def complete_digest(
    conn: sqlite3.Connection,
    snapshot_id: int,
    pages: list[dict[str, Any]],
    sent_for: date | None,
    at: datetime,
    send: tuple[int, ActionSpec] | None,
) -> bool:
    """In the caller's transaction: (a scheduled digest) record its date, store the
    pages, queue the first page. False, with nothing done, if `sent_for` is not after
    the last date sent: a second digest for one local day never goes out."""
    if sent_for is not None and not _digest_state.advance(conn, sent_for, to_db(at)):
        return False
    _digest_snapshots.set_pages(conn, snapshot_id, pages)
    if send is not None:
        user_id, action = send
        _outbox.insert_actions(conn, DIGEST_GUILD, user_id, [action], at, None)
    return True


# --- the one digest timer ----------------------------------------------------------------
_SCHEDULED_DIGEST = (
    "SELECT timer_id, due FROM digest_timer_items WHERE kind = ? AND status = 'scheduled' "
    "ORDER BY due, timer_id"
)


def replace_digest_timer(conn: sqlite3.Connection, due: datetime, at: datetime) -> bool:
    """Exactly one digest timer scheduled, due at `due`: any other is cancelled. True
    if a timer was added (then the dispatcher must hear of it)."""
    wanted, now = to_db(due), to_db(at)
    keep: int | None = None
    for timer_id, timer_due in conn.execute(_SCHEDULED_DIGEST, (TimerKind.DIGEST,)).fetchall():
        if timer_due == wanted and keep is None:
            keep = timer_id
        else:
            _timers.cancel_timer(conn, timer_id, now, "replaced by the next digest time")
    if keep is not None:
        return False
    spec = TimerSpec(TimerKind.DIGEST, due)
    _timers.insert_timer(conn, DIGEST_TIMER_GUILD, DIGEST_TIMER_USER, spec, None, now, wanted)
    return True


# --- the content -------------------------------------------------------------------------
_REVIEWS = """
SELECT decision_id, COALESCE(NULLIF(display_name, ''), CAST(user_id AS TEXT)), rule, held_at
FROM review_queue WHERE pending ORDER BY held_at, decision_id
"""
_TIMERS = """
SELECT timer_id, member, rule, due, created_at FROM digest_timer_items
WHERE status = 'scheduled' AND kind = ? AND due > ? AND due <= ?
ORDER BY due, timer_id
"""
# A refused reply to a mention is listed with the unanswered mentions, not here.
_ACTIONS = """
SELECT outbox_id, kind, status, member, code, error, at FROM digest_action_items
WHERE at > ? AND kind != 'reply' ORDER BY at, outbox_id
"""
_CLEANUP = """
SELECT member, silent, since FROM digest_cleanup_items
WHERE (silent AND since <= ?) OR (NOT silent AND since > ?)
ORDER BY since
"""


def pending_reviews(conn: sqlite3.Connection) -> list[ReviewItem]:
    """Held decisions still waiting for the owner (review_queue's `pending`), oldest first."""
    return [(d, member, rule, from_db(held)) for d, member, rule, held in conn.execute(_REVIEWS)]


def timers_due_between(
    conn: sqlite3.Connection, kind: TimerKind, start: str, end: str
) -> list[TimerItem]:
    """Scheduled timers of `kind` due in (start, end], earliest first."""
    rows = conn.execute(_TIMERS, (kind, start, end)).fetchall()
    return [TimerItem(r[0], r[1], r[2], from_db(r[3]), from_db(r[4])) for r in rows]


def failed_actions(conn: sqlite3.Connection, since: str) -> list[FailedAction]:
    """DMs and role changes refused for good or left uncertain after a crash, since `since`."""
    rows = conn.execute(_ACTIONS, (since,)).fetchall()
    return [FailedAction(r[0], r[1], r[2], r[3], r[4], r[5], from_db(r[6])) for r in rows]


def cleanup_candidates(
    conn: sqlite3.Connection, silent_before: str, left_since: str
) -> list[CleanupItem]:
    """Followed back on or before `silent_before` and silent since; or left soon after a
    follow-back, after `left_since`."""
    rows = conn.execute(_CLEANUP, (silent_before, left_since)).fetchall()
    return [CleanupItem(r[0], bool(r[1]), from_db(r[2])) for r in rows]


def decision_counts(conn: sqlite3.Connection, start: str, end: str) -> list[tuple[str, str, int]]:
    """(action, rule, count) of the decisions in [start, end)."""
    return [(a, r, n) for r, a, n in _decisions.decisions_by_rule(conn, start, end)]


def action_counts(conn: sqlite3.Connection, start: str, end: str) -> dict[str, int]:
    """Decisions per action in [start, end)."""
    totals: dict[str, int] = {}
    for _, action, n in _decisions.decisions_by_rule(conn, start, end):
        totals[action] = totals.get(action, 0) + n
    return totals
