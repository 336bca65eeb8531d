"""The members table: joins, leaves, activity counters, the follow-back state.

Its column lists are generated from ``MemberRow`` (and ``UserInfo``, the part Discord
refreshes at every join), so a column is named once, in rows.py, and in the migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.policy.facts import MemberFacts
from bot.store.db import from_db, to_db, to_db_or_none
from bot.store.rows import (
    MEMBER_FIELDS,
    SINCE_JOINING,
    MemberRow,
    UserInfo,
    columns,
    generated,
    member_row,
)

# What Discord says about the user (every UserInfo field but the id).
USER_COLUMNS = tuple(f.name for f in fields(UserInfo) if f.name != "user_id")
# Activity counters: they count since joining, so a rejoin starts them again.
ACTIVITY_COUNTERS = tuple(f.name for f in fields(MemberRow) if f.metadata.get(SINCE_JOINING))

_KEY = "WHERE guild_id = ? AND user_id = ?"
_SET_USER = ", ".join(f"{name} = ?" for name in USER_COLUMNS)
_SELECT = f"SELECT {columns(MemberRow)} FROM members"  # noqa: S608 (generated from constants)
_ONE = f"{_SELECT} {_KEY}"
_GUILD = f"{_SELECT} WHERE guild_id = ?"
_EVERYONE = f"{_SELECT} ORDER BY guild_id, user_id"

_INSERT = f"""
INSERT INTO members (guild_id, user_id, {", ".join(USER_COLUMNS)},
    joined_at, present, pending, times_joined, first_seen_at, updated_at)
VALUES (?, ?, {", ".join("?" * len(USER_COLUMNS))}, ?, 1, ?, 1, ?, ?)
ON CONFLICT (guild_id, user_id) DO NOTHING
"""  # noqa: S608
_STAY = f"SELECT present, joined_at, pending, times_joined FROM members {_KEY}"  # noqa: S608
# Seen before, same stay (a repeated join event): refresh what Discord said, count nothing.
_REFRESH = f"UPDATE members SET {_SET_USER}, pending = ?, updated_at = ? {_KEY}"  # noqa: S608
# Seen before and left (or a leave was missed): a rejoin. Roles are lost on leaving, and
# the activity counters mean "since joining", so they start again.
_REJOIN = f"""
UPDATE members SET {_SET_USER}, pending = ?, updated_at = ?,
    joined_at = ?, left_at = NULL, present = 1, followed = 0,
    times_joined = times_joined + 1, times_rejoined = times_rejoined + 1,
    {", ".join(f"{name} = 0" for name in ACTIVITY_COUNTERS)}
{_KEY}
"""  # noqa: S608
_LEAVE = f"""
UPDATE members SET present = 0, pending = 0, left_at = ?, followed = 0,
    churned = churned + ?, updated_at = ?
{_KEY}
"""  # noqa: S608
_BUMP = f"""
UPDATE members SET {", ".join(f"{name} = {name} + ?" for name in ACTIVITY_COUNTERS)}
{_KEY}
"""  # noqa: S608
_SCREENED = f"UPDATE members SET pending = 0 {_KEY}"  # noqa: S608
_CURRENT = f"SELECT present, times_joined FROM members {_KEY}"  # noqa: S608
_FOLLOW = f"""
UPDATE members SET followed = 1,
    followed_at = CASE WHEN followed = 1 AND followed_at IS NOT NULL THEN followed_at ELSE ? END,
    unfollowed_by_owner = CASE WHEN ? THEN 0 ELSE unfollowed_by_owner END,
    updated_at = ?
{_KEY}
"""  # noqa: S608
_UNFOLLOW = f"""
UPDATE members SET followed = 0,
    unfollowed_by_owner = CASE WHEN ? THEN 1 ELSE unfollowed_by_owner END,
    updated_at = ?
{_KEY}
"""  # noqa: S608
_DECIDED = f"""
UPDATE members SET last_decision_id = ?, declined_before = MAX(declined_before, ?),
    updated_at = ?
{_KEY}
"""  # noqa: S608
_JOINS_SINCE = (
    "SELECT joined_at FROM members WHERE guild_id = ? AND joined_at > ? ORDER BY joined_at"
)

# What a join says happened to the member. MISSED_LEAVE: a rejoin of a member stored as
# present (the leave was never seen): the earlier stay ends here, as a leave ends it.
JOINED, REJOINED, SCREENED, REPEAT = "joined", "rejoined", "screened", "repeat"
MISSED_LEAVE = "rejoined after a missed leave"
NEW_STAY = frozenset({JOINED, REJOINED, MISSED_LEAVE})


# The user's columns as stored (sqlite stores a bool as 0 or 1, a time as text).
_user_values: Callable[[UserInfo], tuple[Any, ...]] = generated(
    "user_values",
    "user",
    "({},)".format(
        ", ".join(
            f"to_db_or_none(user.{f.name})" if "datetime" in str(f.type) else f"user.{f.name}"
            for f in fields(UserInfo)
            if f.name in USER_COLUMNS
        )
    ),
    {"to_db_or_none": to_db_or_none},
)


def get_member(conn: sqlite3.Connection, guild_id: int, user_id: int) -> MemberRow | None:
    raw = conn.execute(_ONE, (guild_id, user_id)).fetchone()
    return None if raw is None else member_row(raw)


def guild_members(conn: sqlite3.Connection, guild_id: int) -> list[MemberRow]:
    return [member_row(raw) for raw in conn.execute(_GUILD, (guild_id,)).fetchall()]


def every_member(conn: sqlite3.Connection) -> list[MemberRow]:
    """Every stored member of every guild (for simulating a policy against history)."""
    return [member_row(raw) for raw in conn.execute(_EVERYONE).fetchall()]


def upsert_join(
    conn: sqlite3.Connection,
    guild_id: int,
    user: UserInfo,
    joined_at: datetime,
    pending: bool,
    at: datetime,
) -> tuple[MemberRow, str]:
    """Insert, refresh or rejoin a member; says what changed.

    JOINED (first time), REJOINED, MISSED_LEAVE (a newer ``joined_at`` for a member
    stored as present: a new stay though no leave was seen), SCREENED (the same stay
    seen again with its membership screening now complete: something new to decide on)
    or REPEAT (the same stay again, or an older one: a stale event changes nothing).
    """
    key = (guild_id, user.user_id)
    values = _user_values(user)
    joined, now = to_db(joined_at), to_db(at)
    inserted = conn.execute(_INSERT, (*key, *values, joined, int(pending), now, now))
    if inserted.rowcount == 1:
        # A first join is the common case of a burst: the row is known, no re-read.
        return _new_member_row(guild_id, user, joined_at, pending, at), JOINED
    old = conn.execute(_STAY, key).fetchone()
    if old[0] and old[1] == joined:
        # The same stay seen again. If it was pending and is not any more, screening
        # completed in between: say so, or nobody would ever decide for them.
        conn.execute(_REFRESH, (*values, int(pending), now, *key))
        change = SCREENED if old[2] and not pending else REPEAT
    elif old[0] and old[1] is not None and joined < old[1]:
        change = REPEAT  # an earlier stay's join, seen late: the current stay stands
    else:
        conn.execute(_REJOIN, (*values, int(pending), now, joined, *key))
        change = MISSED_LEAVE if old[0] else REJOINED
    row = get_member(conn, *key)
    assert row is not None
    return row, change


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


# What _INSERT just wrote, as the row a read gives back (a first join of a burst is not
# read again): the user's fields, what the insert sets, the table's defaults for the rest.
_new_member_row: Callable[[int, UserInfo, datetime, bool, datetime], MemberRow] = generated(
    "new_member_row",
    "guild_id, user, joined_at, pending, now",
    "MemberRow(user_id=user.user_id, {}, guild_id=guild_id, joined_at=utc(joined_at), "
    "pending=pending, times_joined=1, first_seen_at=utc(now), updated_at=utc(now))".format(
        ", ".join(
            f"{f.name}=utc(user.{f.name})"
            if "datetime" in str(f.type)
            else f"{f.name}=user.{f.name}"
            for f in fields(UserInfo)
            if f.name in USER_COLUMNS
        )
    ),
    {"MemberRow": MemberRow, "utc": _utc},
)


def record_leave(
    conn: sqlite3.Connection, guild_id: int, user_id: int, at: datetime, churn_window: timedelta
) -> MemberRow | None:
    """Not present any more; a leave soon after a follow-back counts as churn."""
    row = get_member(conn, guild_id, user_id)
    if row is None or not row.present:
        return row  # unknown, or a repeated leave: count nothing twice
    churn = row.followed and row.followed_at is not None and at - row.followed_at <= churn_window
    left = to_db(at)
    conn.execute(_LEAVE, (left, int(churn), left, guild_id, user_id))
    return get_member(conn, guild_id, user_id)


def stay_is_current(conn: sqlite3.Connection, guild_id: int, user_id: int, stay: int) -> bool:
    """Whether ``stay`` is the member's current, open stay."""
    raw = conn.execute(_CURRENT, (guild_id, user_id)).fetchone()
    return raw is not None and bool(raw[0]) and raw[1] == stay


def record_screening_done(conn: sqlite3.Connection, guild_id: int, user_id: int) -> None:
    conn.execute(_SCREENED, (guild_id, user_id))


def bump_activity(
    conn: sqlite3.Connection, guild_id: int, user_id: int, counts: dict[str, int]
) -> None:
    """Add to the activity counters named in ``counts`` (no-op for an unknown member)."""
    values = tuple(counts.get(name, 0) for name in ACTIVITY_COUNTERS)
    conn.execute(_BUMP, (*values, guild_id, user_id))


def bump_activities(
    conn: sqlite3.Connection, bumps: Sequence[tuple[int, int, dict[str, int]]]
) -> None:
    """Many members' counters at once: (guild id, user id, counts) each."""
    conn.executemany(
        _BUMP,
        [
            (*(counts.get(name, 0) for name in ACTIVITY_COUNTERS), guild_id, user_id)
            for guild_id, user_id, counts in bumps
        ],
    )


def set_followed(
    conn: sqlite3.Connection, guild_id: int, user_id: int, followed: bool, at: str, by_owner: bool
) -> None:
    if followed:
        conn.execute(_FOLLOW, (at, int(by_owner), at, guild_id, user_id))
    else:
        conn.execute(_UNFOLLOW, (int(by_owner), at, guild_id, user_id))


def mark_decided(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int,
    decision_id: int,
    declined: bool,
    now: str,
) -> None:
    """The member's latest decision; a decline is remembered for good."""
    conn.execute(_DECIDED, (decision_id, int(declined), now, guild_id, user_id))


def join_times_since(conn: sqlite3.Connection, guild_id: int, since: str) -> list[datetime]:
    """Join times in the guild after ``since``, oldest first."""
    return [from_db(raw[0]) for raw in conn.execute(_JOINS_SINCE, (guild_id, since)).fetchall()]


# Every column that is also a fact (same name) is carried over to the policy's facts.
FACT_COLUMNS = tuple(
    name for name in MEMBER_FIELDS if name in {f.name for f in fields(MemberFacts)}
)

_facts_from_row = generated(
    "facts_from_row",
    "row, observed, roles, recent_joins",
    "MemberFacts(id=row.user_id, observed=observed, roles=roles, recent_joins=recent_joins, "
    + ", ".join(f"{name}=row.{name}" for name in FACT_COLUMNS)
    + ")",
    {"MemberFacts": MemberFacts},
)


def facts_from_row(
    row: MemberRow,
    *,
    observed: bool,
    roles: frozenset[str] = frozenset(),
    recent_joins: tuple[datetime, ...] = (),
) -> MemberFacts:
    """The policy's view of a stored member (pure: no query): every column that is a fact
    too, ``id`` from the user id, and what the caller knows at decision time."""
    facts: MemberFacts = _facts_from_row(row, observed, roles, recent_joins)
    return facts


_OWNER_FOLLOWS_AGAIN = f"UPDATE members SET unfollowed_by_owner = 0, updated_at = ? {_KEY}"  # noqa: S608


def clear_unfollowed_by_owner(
    conn: sqlite3.Connection, guild_id: int, user_id: int, at: str
) -> None:
    """The owner follows someone by hand again: what they took away may be given back."""
    conn.execute(_OWNER_FOLLOWS_AGAIN, (at, guild_id, user_id))


# --- the start-up catch-up: the guild's member list compared with the table -------------
#
# The list arrives in batches of slim rows, kept in a temporary table; one query then
# returns only the stored rows that may differ from what Discord says, another the
# stored-present members missing from the whole list (the leaves). No Python object per
# stored member: a 100,000-member guild costs the rows that changed, not the guild. The
# temporary table belongs to the one connection and serves one catch-up at a time (the
# follower pipeline's worker runs them one after another).

# (user id, joined_at, pending, has the follow-back role (None: no such role), follower)
ListedRow = tuple[int, datetime | None, bool, bool | None, bool]

_LISTED = "temp.present_members"
_LISTED_CREATE = f"""
CREATE TABLE IF NOT EXISTS {_LISTED} (
    user_id INTEGER PRIMARY KEY, joined_at TEXT, pending INTEGER, has_role INTEGER,
    follower INTEGER
)
"""
_LISTED_CLEAR = f"DELETE FROM {_LISTED}"  # noqa: S608 (a constant)
_LISTED_DROP = f"DROP TABLE IF EXISTS {_LISTED}"
_LISTED_INSERT = f"INSERT OR REPLACE INTO {_LISTED} VALUES (?, ?, ?, ?, ?)"  # noqa: S608
_LISTED_MEMBER_COLUMNS = ", ".join(f"m.{name}" for name in columns(MemberRow).split(", "))
# A superset of what the catch-up acts on (it decides exactly, on these few rows): not
# stored; a newer joined_at (a new stay); stored as gone but here; screening done; the
# follow-back role differs from the stored state. Stored times are fixed-width ISO UTC
# text (db.to_db), so comparing the text compares the times.
_LISTED_DIFFERS = f"""
SELECT p.user_id, m.user_id IS NOT NULL, {_LISTED_MEMBER_COLUMNS}
FROM {_LISTED} AS p
LEFT JOIN members AS m ON m.guild_id = ? AND m.user_id = p.user_id
WHERE p.follower = 1 AND (
    m.user_id IS NULL
    OR (p.joined_at IS NOT NULL AND m.joined_at IS NOT NULL AND p.joined_at > m.joined_at)
    OR (m.present = 0 AND p.joined_at IS NOT NULL)
    OR (m.present = 1 AND m.pending = 1 AND p.pending = 0)
    OR (m.present = 1 AND p.has_role IS NOT NULL AND p.has_role != m.followed)
)
ORDER BY p.user_id
"""  # noqa: S608
_LISTED_ABSENT = f"""
SELECT user_id FROM members
WHERE guild_id = ? AND present = 1 AND user_id NOT IN (SELECT user_id FROM {_LISTED})
ORDER BY user_id
"""  # noqa: S608


def begin_listing(conn: sqlite3.Connection) -> None:
    """An empty list to compare with."""
    conn.execute(_LISTED_CREATE)
    conn.execute(_LISTED_CLEAR)


def add_listed(conn: sqlite3.Connection, batch: Sequence[ListedRow]) -> None:
    """Add a batch of the list (its times as stored text, one batch at a time)."""
    conn.executemany(
        _LISTED_INSERT,
        [
            (
                user_id,
                # discord.py's times are already UTC: written as to_db writes them, faster.
                joined_at.isoformat(timespec="microseconds")
                if joined_at is not None and joined_at.tzinfo is UTC
                else to_db_or_none(joined_at),
                int(pending),
                None if has_role is None else int(has_role),
                int(follower),
            )
            for user_id, joined_at, pending, has_role, follower in batch
        ],
    )


def differing_from_listed(
    conn: sqlite3.Connection, guild_id: int
) -> list[tuple[int, MemberRow | None]]:
    """Followers in the list whose stored row may differ: (user id, the row or None if
    never stored), by user id."""
    found = conn.execute(_LISTED_DIFFERS, (guild_id,)).fetchall()
    return [(raw[0], member_row(raw[2:]) if raw[1] else None) for raw in found]


def absent_from_listed(conn: sqlite3.Connection, guild_id: int) -> list[int]:
    """Stored as present, missing from the whole list: they left while the bot was down."""
    return [raw[0] for raw in conn.execute(_LISTED_ABSENT, (guild_id,)).fetchall()]


def end_listing(conn: sqlite3.Connection) -> None:
    conn.execute(_LISTED_DROP)


def current_stay_condition(table: str) -> str:
    """SQL that holds while ``table``'s row (guild_id, user_id, stay) belongs to the member's
    current, open stay: for other tables' statements, so the members SQL stays here."""
    return f"""EXISTS (
    SELECT 1 FROM members m WHERE m.guild_id = {table}.guild_id AND m.user_id = {table}.user_id
    AND m.present = 1 AND m.times_joined = {table}.stay)"""  # noqa: S608 (a table name of ours)
