"""The durable outbox (each action at most once) and the DM and reply limits."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store._base import StoreBase, placeholders
from bot.store._decisions import insert_actions
from bot.store.db import dump_json, from_db, from_db_or_none, to_db
from bot.store.rows import OUTBOX_COLUMNS, ActionSpec, OutboxRow, outbox_row

_SELECT = f"SELECT {OUTBOX_COLUMNS} FROM outbox"  # noqa: S608 (constant columns)
_DUE = f"{_SELECT} WHERE status = 'pending' AND not_before <= ? ORDER BY not_before, id LIMIT ?"
_IN_DOUBT = f"{_SELECT} WHERE status = 'sending' ORDER BY id"
_FOR_MEMBER = f"{_SELECT} WHERE guild_id = ? AND user_id = ? ORDER BY id"
_ONE = f"{_SELECT} WHERE id = ?"

_CLAIM = """
UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?
WHERE id = ? AND status = 'pending'
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


def _changed(cur: sqlite3.Cursor) -> bool:
    return cur.rowcount == 1


class OutboxMixin(StoreBase):
    async def enqueue_actions(
        self,
        guild_id: int,
        user_id: int,
        actions: Sequence[ActionSpec],
        at: datetime,
        decision_id: int | None = None,
    ) -> list[int]:
        """Queue actions outside a decision (all or none); returns the outbox ids."""
        if not actions:
            return []
        return await self._db.transaction(
            lambda conn: insert_actions(conn, guild_id, user_id, actions, at, decision_id)
        )

    async def get_action(self, outbox_id: int) -> OutboxRow | None:
        raw = await self._db.run(lambda conn: conn.execute(_ONE, (outbox_id,)).fetchone())
        return None if raw is None else outbox_row(raw)

    async def due_actions(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        """Pending actions whose time has come, oldest first."""
        moment = to_db(now)
        rows = await self._db.run(lambda conn: conn.execute(_DUE, (moment, limit)).fetchall())
        return [outbox_row(raw) for raw in rows]

    async def next_action_due(self) -> datetime | None:
        """The earliest ``not_before`` of the pending actions."""
        raw = await self._db.run(
            lambda conn: conn.execute(
                "SELECT MIN(not_before) FROM outbox WHERE status = 'pending'"
            ).fetchone()
        )
        return from_db_or_none(raw[0])

    async def claim_action(self, outbox_id: int, at: datetime) -> bool:
        """pending -> sending (attempts + 1), committed; False if someone else claimed it."""
        moment = to_db(at)
        return await self._db.run(lambda conn: _changed(conn.execute(_CLAIM, (moment, outbox_id))))

    async def complete_action(
        self, outbox_id: int, at: datetime, result: dict[str, Any] | None = None
    ) -> bool:
        """sending -> done."""
        moment = to_db(at)
        encoded = None if result is None else dump_json(result)
        params = (moment, moment, encoded, outbox_id)
        return await self._db.run(lambda conn: _changed(conn.execute(_COMPLETE, params)))

    async def fail_action(
        self, outbox_id: int, at: datetime, code: int | None, message: str
    ) -> bool:
        """-> failed for good (Discord refused: never retried)."""
        moment = to_db(at)
        params = (moment, moment, code, message, outbox_id)
        return await self._db.run(lambda conn: _changed(conn.execute(_FAIL, params)))

    async def retry_action(
        self,
        outbox_id: int,
        not_before: datetime,
        code: int | None,
        message: str,
        *,
        at: datetime | None = None,
    ) -> bool:
        """-> pending again, not before ``not_before``. ``updated_at`` moves only if ``at``
        is given (it keeps the claim time otherwise)."""
        params = (to_db(not_before), code, message, None if at is None else to_db(at), outbox_id)
        return await self._db.run(lambda conn: _changed(conn.execute(_RETRY, params)))

    async def in_doubt_actions(self) -> list[OutboxRow]:
        """Actions claimed but never completed: a crash came between send and done."""
        rows = await self._db.run(lambda conn: conn.execute(_IN_DOUBT).fetchall())
        return [outbox_row(raw) for raw in rows]

    async def mark_uncertain(self, outbox_id: int, at: datetime, note: str) -> bool:
        """In doubt and too old to re-send safely: settled as uncertain, never re-sent."""
        moment = to_db(at)
        params = (moment, moment, note, outbox_id)
        return await self._db.run(lambda conn: _changed(conn.execute(_UNCERTAIN, params)))

    async def cancel_actions(
        self, guild_id: int, user_id: int, at: datetime, kinds: Collection[str] | None = None
    ) -> int:
        """Cancel a member's pending actions (of these kinds); returns how many."""
        moment = to_db(at)
        sql = _CANCEL
        params: tuple[Any, ...] = (moment, moment, guild_id, user_id)
        if kinds is not None:
            if not kinds:
                return 0
            sql += f" AND kind IN ({placeholders(kinds)})"
            params += tuple(kinds)
        return await self._db.run(lambda conn: conn.execute(sql, params).rowcount)

    async def actions_for(self, guild_id: int, user_id: int) -> list[OutboxRow]:
        rows = await self._db.run(
            lambda conn: conn.execute(_FOR_MEMBER, (guild_id, user_id)).fetchall()
        )
        return [outbox_row(raw) for raw in rows]

    # --- DM limits ---------------------------------------------------------------------

    async def dm_slot(
        self,
        user_id: int,
        now: datetime,
        *,
        per_day: int,
        spacing: timedelta,
        cooldown: timedelta,
        day_start: datetime,
    ) -> datetime | None:
        """None if a DM to this user may go now; else the earliest time it may.

        Limits: at most ``per_day`` DMs since ``day_start`` (then: the next day start,
        computed in ``day_start``'s own timezone so DST is right); ``spacing`` since the
        last DM to anyone; ``cooldown`` since the last DM to this user.
        """
        start = to_db(day_start)

        def work(conn: sqlite3.Connection) -> tuple[int, str | None, str | None]:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM dm_log WHERE sent_at >= ?", (start,)
            ).fetchone()
            (last_any,) = conn.execute("SELECT MAX(sent_at) FROM dm_log").fetchone()
            (last_user,) = conn.execute(
                "SELECT MAX(sent_at) FROM dm_log WHERE user_id = ?", (user_id,)
            ).fetchone()
            return count, last_any, last_user

        count, last_any, last_user = await self._db.run(work)
        waits: list[datetime] = []
        if count >= per_day:
            waits.append((day_start + timedelta(days=1)).astimezone(UTC))
        if last_any is not None:
            waits.append(from_db(last_any) + spacing)
        if last_user is not None:
            waits.append(from_db(last_user) + cooldown)
        when = max(waits, default=None)
        if when is None or when <= now:
            return None
        return when

    async def record_dm_sent(self, user_id: int, outbox_id: int | None, at: datetime) -> None:
        params = (user_id, outbox_id, to_db(at))
        await self._db.run(
            lambda conn: conn.execute(
                "INSERT INTO dm_log (user_id, outbox_id, sent_at) VALUES (?, ?, ?)", params
            )
        )

    async def dms_sent_since(self, since: datetime) -> int:
        moment = to_db(since)
        raw = await self._db.run(
            lambda conn: conn.execute(
                "SELECT COUNT(*) FROM dm_log WHERE sent_at >= ?", (moment,)
            ).fetchone()
        )
        return int(raw[0])

    # --- reply cooldown ----------------------------------------------------------------

    async def record_reply(self, guild_id: int, user_id: int, template: str, at: datetime) -> None:
        params = (guild_id, user_id, template, to_db(at))
        await self._db.run(
            lambda conn: conn.execute(
                "INSERT INTO reply_log (guild_id, user_id, template, at) VALUES (?, ?, ?, ?)",
                params,
            )
        )

    async def last_reply_at(self, guild_id: int, user_id: int) -> datetime | None:
        """When the bot last auto-replied to this person in this guild (any template)."""
        raw = await self._db.run(
            lambda conn: conn.execute(
                "SELECT MAX(at) FROM reply_log WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            ).fetchone()
        )
        return from_db_or_none(raw[0])
