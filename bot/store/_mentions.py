"""The mentions table: mentions of the owner or the bot, each with its decision (and its
explanation) and what came of it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from bot.store._outbox import insert_actions
from bot.store._reply_log import last_reply_of, record_reply
from bot.store._timers import cancel_timer, fire_timer, insert_timer
from bot.store.db import to_db
from bot.store.kinds import UNANSWERED_STATUSES, MentionStatus, TimerKind
from bot.store.mention_rows import MentionInput, MentionRow, MentionVerdict, ReplyRoom, mention_row
from bot.store.rows import ActionSpec, TimerSpec, columns

_SELECT = f"SELECT {columns(MentionRow)} FROM mentions"  # noqa: S608 (constant columns)
_INSERT = """
INSERT INTO mentions (guild_id, channel_id, channel_name, parent_id, parent_name, message_id,
    author_id, author_name, author_kind, text, mentions_owner, mentions_bot, replies_to_owner,
    posted_at, source, stored_at, rule, action, template, explanation, policy_version,
    decided_at, status, outcome, settled_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (message_id) DO NOTHING
RETURNING id
"""
_SET_TIMER = "UPDATE mentions SET timer_id = ? WHERE id = ?"
_BY_TIMER = f"{_SELECT} WHERE timer_id = ?"
_BY_ID = f"{_SELECT} WHERE id = ?"
_BY_MESSAGE = f"{_SELECT} WHERE message_id = ?"
_SETTLE = """
UPDATE mentions SET status = ?, outcome = ?, settled_at = ?
WHERE id = ? AND status = 'waiting'
RETURNING timer_id
"""
_QUEUED = """
UPDATE mentions SET status = 'queued', outcome = ?, settled_at = ?, variant = ?
WHERE id = ? AND status = 'waiting'
"""
_SET_OUTBOX = "UPDATE mentions SET outbox_id = ? WHERE id = ?"
_OWNER_POSTED = """
UPDATE mentions SET status = 'owner_answered', outcome = ?, settled_at = ?
WHERE channel_id = ? AND message_id < ? AND status = 'waiting'
RETURNING id, timer_id
"""
_ON_MESSAGE = """
UPDATE mentions SET status = ?, outcome = ?, settled_at = ?
WHERE message_id = ? AND status = 'waiting'
RETURNING id, timer_id
"""
_CHANNEL_REPLIES = """
SELECT COUNT(*) FROM mentions
WHERE channel_id = ? AND outbox_id IS NOT NULL AND settled_at > ?
"""
_LAST_VARIANT = """
SELECT variant FROM mentions
WHERE guild_id = ? AND author_id = ? AND template = ? AND variant IS NOT NULL
ORDER BY id DESC LIMIT 1
"""
# Unanswered, or answered by a reply whose fate the outbox knows (refused or not).
_UNANSWERED_OR_QUEUED = f"""
{_SELECT} WHERE posted_at >= ? AND posted_at < ?
AND status IN ({", ".join("?" * (len(UNANSWERED_STATUSES) + 1))})
ORDER BY posted_at, id
"""
_IN_GUILD = f"{_SELECT} WHERE guild_id = ? ORDER BY id"


def store_mention(
    conn: sqlite3.Connection, item: MentionInput, verdict: MentionVerdict, now: str
) -> tuple[int, int | None] | None:
    """The mention and its decision (and its wait timer) at once: (mention id, timer id),
    or None if this message was stored before (a live mention found again at start)."""
    settled = None if verdict.status is MentionStatus.WAITING else now
    raw = conn.execute(
        _INSERT,
        (item.guild_id, item.channel_id, item.channel_name, item.parent_id, item.parent_name,
         item.message_id, item.author_id, item.author_name, item.author_kind, item.text,
         item.mentions_owner, item.mentions_bot, item.replies_to_owner, to_db(item.posted_at),
         item.source, now, verdict.rule, verdict.action, verdict.template, verdict.explanation,
         verdict.policy_version, now, verdict.status, verdict.outcome, settled),
    ).fetchone()  # fmt: skip
    if raw is None:
        return None
    mention_id = int(raw[0])
    if verdict.wait_until is None:
        return mention_id, None
    timer = TimerSpec(TimerKind.MENTION_WAIT, verdict.wait_until)
    insert_timer(conn, item.guild_id, item.author_id, timer, None, now, to_db(timer.due))
    timer_id = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
    conn.execute(_SET_TIMER, (timer_id, mention_id))
    return mention_id, timer_id


def mention_for_timer(conn: sqlite3.Connection, timer_id: int) -> MentionRow | None:
    raw = conn.execute(_BY_TIMER, (timer_id,)).fetchone()
    return None if raw is None else mention_row(raw)


def get_mention(conn: sqlite3.Connection, mention_id: int) -> MentionRow | None:
    raw = conn.execute(_BY_ID, (mention_id,)).fetchone()
    return None if raw is None else mention_row(raw)


def mention_by_message(conn: sqlite3.Connection, message_id: int) -> MentionRow | None:
    raw = conn.execute(_BY_MESSAGE, (message_id,)).fetchone()
    return None if raw is None else mention_row(raw)


def mentions_in(conn: sqlite3.Connection, guild_id: int) -> list[MentionRow]:
    return [mention_row(raw) for raw in conn.execute(_IN_GUILD, (guild_id,)).fetchall()]


def reply_room(
    conn: sqlite3.Connection,
    mention: MentionRow,
    template: str,
    cooldown_since: str,
    budget_since: str,
) -> ReplyRoom:
    person = (mention.guild_id, mention.author_id, template)
    last_same = last_reply_of(conn, *person)
    if last_same is not None and to_db(last_same) <= cooldown_since:
        last_same = None  # outside the cooldown: it does not count
    count = conn.execute(_CHANNEL_REPLIES, (mention.channel_id, budget_since)).fetchone()[0]
    variant = conn.execute(_LAST_VARIANT, person).fetchone()
    return ReplyRoom(last_same, int(count), None if variant is None else variant[0])


def queue_reply(
    conn: sqlite3.Connection,
    mention: MentionRow,
    template: str,
    variant: int,
    action: ActionSpec,
    at: datetime,
) -> int | None:
    """The reply queued, the reply logged (the cooldown), the mention settled and its timer
    fired, all or nothing; the outbox id, or None if the mention was settled meanwhile."""
    now = to_db(at)
    if conn.execute(_QUEUED, ("reply queued", now, variant, mention.id)).rowcount != 1:
        return None
    (outbox_id,) = insert_actions(conn, mention.guild_id, mention.author_id, [action], at, None)
    conn.execute(_SET_OUTBOX, (outbox_id, mention.id))
    record_reply(conn, mention.guild_id, mention.author_id, template, now)
    if mention.timer_id is not None:
        fire_timer(conn, mention.timer_id, now, "reply queued")
    return outbox_id


def settle(
    conn: sqlite3.Connection, mention_id: int, status: MentionStatus, outcome: str, now: str
) -> bool:
    """A waiting mention settled without a reply (its timer fired with the outcome)."""
    raw = conn.execute(_SETTLE, (status, outcome, now, mention_id)).fetchone()
    if raw is None:
        return False
    if raw[0] is not None:
        fire_timer(conn, int(raw[0]), now, outcome)
    return True


def _cancel_timers(conn: sqlite3.Connection, rows: Iterable[tuple[int, int | None]], now: str,
                   outcome: str) -> list[int]:  # fmt: skip
    settled = []
    for mention_id, timer_id in rows:
        settled.append(int(mention_id))
        if timer_id is not None:
            cancel_timer(conn, int(timer_id), now, outcome)
    return settled


def owner_posted(
    conn: sqlite3.Connection, channel_id: int, message_id: int, outcome: str, now: str
) -> list[int]:
    """The owner posted in a channel: every mention waiting there from before is settled."""
    rows = conn.execute(_OWNER_POSTED, (outcome, now, channel_id, message_id)).fetchall()
    return _cancel_timers(conn, rows, now, outcome)


def message_event(
    conn: sqlite3.Connection, message_id: int, status: MentionStatus, outcome: str, now: str
) -> list[int]:
    """Something happened to a mention's message (the owner reacted, it was deleted)."""
    rows = conn.execute(_ON_MESSAGE, (status, outcome, now, message_id)).fetchall()
    return _cancel_timers(conn, rows, now, outcome)


def unanswered_or_queued(conn: sqlite3.Connection, since: str, until: str) -> list[MentionRow]:
    """Mentions posted in [since, until) left unanswered, or whose reply was queued (the
    outbox row says whether it was refused: the caller asks it)."""
    params = (since, until, *UNANSWERED_STATUSES, MentionStatus.QUEUED)
    return [mention_row(raw) for raw in conn.execute(_UNANSWERED_OR_QUEUED, params).fetchall()]


_WAITING = f"{_SELECT} WHERE status = 'waiting' ORDER BY id"


def waiting_mentions(conn: sqlite3.Connection) -> list[MentionRow]:
    return [mention_row(raw) for raw in conn.execute(_WAITING).fetchall()]
