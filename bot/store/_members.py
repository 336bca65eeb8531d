"""Members: joins, leaves, activity counters, the follow-back state, and MemberFacts."""

from __future__ import annotations

import sqlite3
from bisect import bisect_right, insort
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.policy.facts import MemberFacts
from bot.store._base import StoreBase
from bot.store.db import from_db, to_db, to_db_or_none
from bot.store.rows import MEMBER_COLUMNS, MemberRow, UserInfo, member_row

_SELECT_MEMBER = f"SELECT {MEMBER_COLUMNS} FROM members WHERE guild_id = ? AND user_id = ?"  # noqa: S608 (constant columns)
_SELECT_GUILD = f"SELECT {MEMBER_COLUMNS} FROM members WHERE guild_id = ?"  # noqa: S608

_INSERT_MEMBER = """
INSERT INTO members (
    guild_id, user_id, username, global_name, nick, bot, spammer, default_avatar,
    created_at, joined_at, present, pending, times_joined, first_seen_at, updated_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 1, ?, ?)
ON CONFLICT (guild_id, user_id) DO NOTHING
"""

# Seen before, same stay (a repeated join event): refresh what Discord said, count nothing.
_REFRESH_MEMBER = """
UPDATE members SET username = ?, global_name = ?, nick = ?, bot = ?, spammer = ?,
    default_avatar = ?, created_at = ?, pending = ?, updated_at = ?
WHERE guild_id = ? AND user_id = ?
"""

# Seen before and left (or a leave was missed): a rejoin. Roles are lost on leaving, and
# the activity counters mean "since joining", so they start again.
_REJOIN_MEMBER = """
UPDATE members SET username = ?, global_name = ?, nick = ?, bot = ?, spammer = ?,
    default_avatar = ?, created_at = ?, pending = ?, updated_at = ?,
    joined_at = ?, left_at = NULL, present = 1, followed = 0,
    times_joined = times_joined + 1, times_rejoined = times_rejoined + 1,
    messages = 0, links = 0, invites = 0, attachments = 0, everyone_pings = 0,
    owner_mentions = 0
WHERE guild_id = ? AND user_id = ?
"""

_LEAVE_MEMBER = """
UPDATE members SET present = 0, pending = 0, left_at = ?, followed = 0,
    churned = churned + ?, updated_at = ?
WHERE guild_id = ? AND user_id = ?
"""

_BUMP = """
UPDATE members SET messages = messages + ?, links = links + ?, invites = invites + ?,
    attachments = attachments + ?, everyone_pings = everyone_pings + ?,
    owner_mentions = owner_mentions + ?
WHERE guild_id = ? AND user_id = ?
"""

_FOLLOW = """
UPDATE members SET followed = 1,
    followed_at = CASE WHEN followed = 1 AND followed_at IS NOT NULL THEN followed_at ELSE ? END,
    unfollowed_by_owner = CASE WHEN ? THEN 0 ELSE unfollowed_by_owner END,
    updated_at = ?
WHERE guild_id = ? AND user_id = ?
"""

_UNFOLLOW = """
UPDATE members SET followed = 0,
    unfollowed_by_owner = CASE WHEN ? THEN 1 ELSE unfollowed_by_owner END,
    updated_at = ?
WHERE guild_id = ? AND user_id = ?
"""

# Keep at most this many cached join times per guild before dropping old ones.
_JOIN_CACHE_LIMIT = 20_000
_JOIN_CACHE_KEEP = timedelta(days=1)


@dataclass(slots=True)
class _GuildJoins:
    """Join times of a guild, sorted; complete for every join strictly after ``floor``."""

    floor: datetime
    times: list[datetime] = field(default_factory=list)

    def add(self, joined_at: datetime) -> None:
        if joined_at <= self.floor:
            return
        insort(self.times, joined_at)
        if len(self.times) > _JOIN_CACHE_LIMIT:
            cutoff = self.times[-1] - _JOIN_CACHE_KEEP
            del self.times[: bisect_right(self.times, cutoff)]
            self.floor = max(self.floor, cutoff)

    def between(self, since: datetime, until: datetime | None) -> tuple[datetime, ...]:
        lo = bisect_right(self.times, since)
        hi = len(self.times) if until is None else bisect_right(self.times, until)
        return tuple(self.times[lo:hi])


def _user_values(user: UserInfo) -> tuple[Any, ...]:
    return (
        user.username,
        user.global_name,
        user.nick,
        int(user.bot),
        int(user.spammer),
        int(user.default_avatar),
        to_db_or_none(user.created_at),
    )


def _fetch_member(conn: sqlite3.Connection, guild_id: int, user_id: int) -> MemberRow | None:
    raw = conn.execute(_SELECT_MEMBER, (guild_id, user_id)).fetchone()
    return None if raw is None else member_row(raw)


def upsert_join(
    conn: sqlite3.Connection,
    guild_id: int,
    user: UserInfo,
    joined_at: datetime,
    pending: bool,
    at: datetime,
) -> tuple[MemberRow, str]:
    """Insert, refresh or rejoin a member; says what changed.

    "joined" (first time), "rejoined", "screened" (the same stay seen again with its
    membership screening now complete: something new to decide on) or "repeat".
    """
    key = (guild_id, user.user_id)
    values = _user_values(user)
    joined, now = to_db(joined_at), to_db(at)
    inserted = conn.execute(_INSERT_MEMBER, (*key, *values, joined, int(pending), now, now))
    if inserted.rowcount == 1:
        # A first join is the common case of a burst: the row is known, no re-read.
        return _new_member_row(guild_id, user, joined_at, pending, at), "joined"
    old = conn.execute(
        "SELECT present, joined_at, pending FROM members WHERE guild_id = ? AND user_id = ?", key
    ).fetchone()
    if old[0] and old[1] == joined:
        # The same stay seen again. If it was pending and is not any more, screening
        # completed in between: say so, or nobody would ever decide for them.
        conn.execute(_REFRESH_MEMBER, (*values, int(pending), now, *key))
        change = "screened" if old[2] and not pending else "repeat"
    else:
        conn.execute(_REJOIN_MEMBER, (*values, int(pending), now, joined, *key))
        change = "rejoined"
    row = _fetch_member(conn, *key)
    assert row is not None
    return row, change


def _new_member_row(
    guild_id: int, user: UserInfo, joined_at: datetime, pending: bool, at: datetime
) -> MemberRow:
    """What _INSERT_MEMBER just wrote, as the row a SELECT would give back."""
    created = user.created_at.astimezone(UTC) if user.created_at is not None else None
    now = at.astimezone(UTC)
    return MemberRow(
        guild_id=guild_id,
        user_id=user.user_id,
        username=user.username,
        global_name=user.global_name,
        nick=user.nick,
        bot=user.bot,
        spammer=user.spammer,
        default_avatar=user.default_avatar,
        created_at=created,
        joined_at=joined_at.astimezone(UTC),
        left_at=None,
        present=True,
        pending=pending,
        times_joined=1,
        times_rejoined=0,
        churned=0,
        messages=0,
        links=0,
        invites=0,
        attachments=0,
        everyone_pings=0,
        owner_mentions=0,
        followed=False,
        followed_at=None,
        unfollowed_by_owner=False,
        declined_before=False,
        last_decision_id=None,
        first_seen_at=now,
        updated_at=now,
    )


def facts_from_row(
    row: MemberRow,
    *,
    observed: bool,
    roles: frozenset[str] = frozenset(),
    recent_joins: tuple[datetime, ...] = (),
) -> MemberFacts:
    """The policy's view of a stored member (pure: no query)."""
    return MemberFacts(
        id=row.user_id,
        username=row.username,
        global_name=row.global_name,
        nick=row.nick,
        bot=row.bot,
        spammer=row.spammer,
        created_at=row.created_at,
        joined_at=row.joined_at,
        default_avatar=row.default_avatar,
        roles=roles,
        messages=row.messages,
        links=row.links,
        invites=row.invites,
        attachments=row.attachments,
        everyone_pings=row.everyone_pings,
        owner_mentions=row.owner_mentions,
        followed=row.followed,
        observed=observed,
        times_rejoined=row.times_rejoined,
        churned=row.churned,
        declined_before=row.declined_before,
        recent_joins=recent_joins,
    )


NEW_STAY = frozenset({"joined", "rejoined"})


class MembersMixin(StoreBase):
    # Recent join times per guild, so surge facts do not re-read thousands of rows per
    # decision. The database stays the truth: the cache is filled from it on first use.
    _join_cache: dict[int, _GuildJoins]

    async def record_join(
        self, guild_id: int, user: UserInfo, joined_at: datetime, pending: bool, at: datetime
    ) -> MemberRow:
        """Upsert a member who joined; count joins and rejoins; present again."""
        row, change = await self._db.transaction(
            lambda conn: upsert_join(conn, guild_id, user, joined_at, pending, at)
        )
        if change in NEW_STAY:
            cache = self._join_cache.get(guild_id)
            if cache is not None:
                cache.add(joined_at)
        return row

    async def record_leave(
        self, guild_id: int, user_id: int, at: datetime, churn_window: timedelta
    ) -> MemberRow | None:
        """Not present any more; a leave soon after a follow-back counts as churn."""
        left = to_db(at)

        def work(conn: sqlite3.Connection) -> MemberRow | None:
            row = _fetch_member(conn, guild_id, user_id)
            if row is None or not row.present:
                return row  # unknown, or a repeated leave: count nothing twice
            churn = (
                row.followed
                and row.followed_at is not None
                and at - row.followed_at <= churn_window
            )
            conn.execute(_LEAVE_MEMBER, (left, int(churn), left, guild_id, user_id))
            return _fetch_member(conn, guild_id, user_id)

        return await self._db.transaction(work)

    async def record_screening_done(self, guild_id: int, user_id: int) -> None:
        await self._db.run(
            lambda conn: conn.execute(
                "UPDATE members SET pending = 0 WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        )

    async def get_member(self, guild_id: int, user_id: int) -> MemberRow | None:
        return await self._db.run(lambda conn: _fetch_member(conn, guild_id, user_id))

    async def known_members(self, guild_id: int) -> dict[int, MemberRow]:
        """Every member of the guild ever stored (present or not), by user id."""

        def work(conn: sqlite3.Connection) -> dict[int, MemberRow]:
            rows = conn.execute(_SELECT_GUILD, (guild_id,)).fetchall()
            return {raw[1]: member_row(raw) for raw in rows}

        return await self._db.run(work)

    async def last_join_at(self, guild_id: int) -> datetime | None:
        raw = await self._db.run(
            lambda conn: conn.execute(
                "SELECT MAX(joined_at) FROM members WHERE guild_id = ?", (guild_id,)
            ).fetchone()
        )
        return None if raw[0] is None else from_db(raw[0])

    async def recent_join_times(
        self, guild_id: int, since: datetime, until: datetime | None = None
    ) -> tuple[datetime, ...]:
        """Join times in the guild after ``since`` (and up to ``until``), oldest first."""
        cache = self._join_cache.get(guild_id)
        if cache is None or since < cache.floor:
            floor = to_db(since)
            rows = await self._db.run(
                lambda conn: conn.execute(
                    "SELECT joined_at FROM members WHERE guild_id = ? AND joined_at > ? "
                    "ORDER BY joined_at",
                    (guild_id, floor),
                ).fetchall()
            )
            # aiosqlite answers in queue order, so a join written before this query is in
            # its rows, and one written after is added to the new cache when it returns.
            cache = _GuildJoins(since, [from_db(raw[0]) for raw in rows])
            self._join_cache[guild_id] = cache
        return cache.between(since, until)

    async def bump_activity(
        self,
        guild_id: int,
        user_id: int,
        *,
        messages: int = 0,
        links: int = 0,
        invites: int = 0,
        attachments: int = 0,
        everyone_pings: int = 0,
        owner_mentions: int = 0,
    ) -> None:
        """Add to a member's activity counters (no-op for members the store never saw)."""
        values = (messages, links, invites, attachments, everyone_pings, owner_mentions)
        await self._db.run(lambda conn: conn.execute(_BUMP, (*values, guild_id, user_id)))

    async def member_facts(
        self,
        guild_id: int,
        user_id: int,
        *,
        now: datetime,
        observed: bool,
        roles: frozenset[str] = frozenset(),
        surge_window: timedelta = timedelta(minutes=10),
    ) -> MemberFacts | None:
        """The policy's view of a stored member, with the guild's joins in the window."""
        row = await self.get_member(guild_id, user_id)
        if row is None:
            return None
        recent = await self.recent_join_times(guild_id, now - surge_window, now)
        return facts_from_row(row, observed=observed, roles=roles, recent_joins=recent)

    async def set_followed(
        self, guild_id: int, user_id: int, followed: bool, at: datetime, *, by_owner: bool = False
    ) -> None:
        """Record a follow-back (role given) or an unfollow (role taken away).

        ``by_owner`` means the owner did it by hand: an unfollow by hand is remembered
        (``unfollowed_by_owner``) so the bot never gives the role back on its own; a
        follow by hand clears that memory.
        """
        moment = to_db(at)
        if followed:
            params: tuple[Any, ...] = (moment, int(by_owner), moment, guild_id, user_id)
            sql = _FOLLOW
        else:
            params = (int(by_owner), moment, guild_id, user_id)
            sql = _UNFOLLOW
        await self._db.run(lambda conn: conn.execute(sql, params))

    async def followed_members(self, guild_id: int) -> set[int]:
        rows = await self._db.run(
            lambda conn: conn.execute(
                "SELECT user_id FROM members WHERE guild_id = ? AND followed = 1", (guild_id,)
            ).fetchall()
        )
        return {raw[0] for raw in rows}
