"""Timers (late follow-backs, observe windows) and the reply-variant rotation."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bot.store._base import StoreBase
from bot.store._decisions import insert_actions
from bot.store.db import from_db, to_db
from bot.store.rows import TIMER_COLUMNS, ActionSpec, TimerRow, timer_row

_SELECT = f"SELECT {TIMER_COLUMNS} FROM timers"  # noqa: S608 (constant columns)
_SCHEDULED = f"{_SELECT} WHERE status = 'scheduled' ORDER BY due, id"
_DUE = f"{_SELECT} WHERE status = 'scheduled' AND due <= ? ORDER BY due, id LIMIT ?"
_NEXT_DUE = "SELECT MIN(due) FROM timers WHERE status = 'scheduled'"
_FOR_MEMBER = f"{_SELECT} WHERE guild_id = ? AND user_id = ? ORDER BY id"
_ONE = f"{_SELECT} WHERE id = ?"

_CLAIM = "UPDATE timers SET status = 'fired' WHERE id = ? AND status = 'scheduled'"
_FIRE = """
UPDATE timers SET status = 'fired', finished_at = ?, outcome = ?
WHERE id = ? AND status = 'scheduled'
"""
_FINISH = """
UPDATE timers SET status = 'fired', finished_at = ?, outcome = ?
WHERE id = ? AND status IN ('scheduled', 'fired')
"""
_CANCEL_ONE = """
UPDATE timers SET status = 'cancelled', finished_at = ?, outcome = ?
WHERE id = ? AND status = 'scheduled'
"""
_CANCEL_MEMBER = """
UPDATE timers SET status = 'cancelled', finished_at = ?, outcome = ?
WHERE guild_id = ? AND user_id = ? AND status = 'scheduled'
"""
_NEXT_VARIANT = """
INSERT INTO reply_rotation (template, next_index) VALUES (?, 1)
ON CONFLICT (template) DO UPDATE SET next_index = next_index + 1
RETURNING next_index - 1
"""


class TimersMixin(StoreBase):
    async def scheduled_timers(self) -> list[TimerRow]:
        """Timers still waiting, earliest first (rebuilt into scheduler jobs at start)."""
        rows = await self._db.run(lambda conn: conn.execute(_SCHEDULED).fetchall())
        return [timer_row(raw) for raw in rows]

    async def next_timer_due(self) -> datetime | None:
        """The earliest due time of a scheduled timer (one scheduler job waits for it)."""
        raw = await self._db.run(lambda conn: conn.execute(_NEXT_DUE).fetchone())
        return None if raw[0] is None else from_db(raw[0])

    async def due_timers(self, now: datetime, limit: int = 500) -> list[TimerRow]:
        """Scheduled timers due by ``now``, earliest first."""
        params = (to_db(now), limit)
        rows = await self._db.run(lambda conn: conn.execute(_DUE, params).fetchall())
        return [timer_row(raw) for raw in rows]

    async def get_timer(self, timer_id: int) -> TimerRow | None:
        raw = await self._db.run(lambda conn: conn.execute(_ONE, (timer_id,)).fetchone())
        return None if raw is None else timer_row(raw)

    async def timers_for(self, guild_id: int, user_id: int) -> list[TimerRow]:
        rows = await self._db.run(
            lambda conn: conn.execute(_FOR_MEMBER, (guild_id, user_id)).fetchall()
        )
        return [timer_row(raw) for raw in rows]

    async def claim_timer(self, timer_id: int, at: datetime) -> bool:
        """scheduled -> fired, committed; False if it already fired or was cancelled.
        (``at`` is recorded by finish_timer, which sets finished_at and the outcome.)"""
        to_db(at)  # refuse naive datetimes here too
        return await self._db.run(lambda conn: conn.execute(_CLAIM, (timer_id,)).rowcount == 1)

    async def finish_timer(self, timer_id: int, at: datetime, outcome: str) -> bool:
        """Record what a fired timer did (claims it too, if it was still scheduled)."""
        params = (to_db(at), outcome, timer_id)
        return await self._db.run(lambda conn: conn.execute(_FINISH, params).rowcount == 1)

    async def fire_timer(
        self,
        timer_id: int,
        at: datetime,
        outcome: str,
        *,
        actions: Sequence[ActionSpec] = (),
    ) -> bool:
        """Claim, finish and queue the timer's actions in one transaction.

        False (and nothing queued) if the timer already fired or was cancelled: each
        timer acts at most once. Actions are linked to the timer's decision.
        """
        params = (to_db(at), outcome, timer_id)

        def work(conn: sqlite3.Connection) -> bool:
            if conn.execute(_FIRE, params).rowcount != 1:
                return False
            if actions:
                guild_id, user_id, decision_id = conn.execute(
                    "SELECT guild_id, user_id, decision_id FROM timers WHERE id = ?", (timer_id,)
                ).fetchone()
                insert_actions(conn, guild_id, user_id, actions, at, decision_id)
            return True

        return await self._db.transaction(work)

    async def cancel_timer(self, timer_id: int, at: datetime, outcome: str) -> bool:
        """scheduled -> cancelled; False if it had already fired or been cancelled."""
        params = (to_db(at), outcome, timer_id)
        return await self._db.run(lambda conn: conn.execute(_CANCEL_ONE, params).rowcount == 1)

    async def cancel_timers(self, guild_id: int, user_id: int, at: datetime, outcome: str) -> int:
        """Cancel every scheduled timer of a member; returns how many."""
        params = (to_db(at), outcome, guild_id, user_id)
        return await self._db.run(lambda conn: conn.execute(_CANCEL_MEMBER, params).rowcount)

    # --- reply rotation ----------------------------------------------------------------

    async def next_variant(self, template: str) -> int:
        """0, 1, 2, ... per template, persisted (the caller takes it modulo the variants)."""
        raw = await self._db.run(lambda conn: conn.execute(_NEXT_VARIANT, (template,)).fetchone())
        return int(raw[0])
