"""Events (stored before anything is done) and decisions (stored with their consequences)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from bot.policy.decision import Action, Decision, Miss
from bot.store._base import StoreBase, placeholders
from bot.store.db import dump_json, to_db, to_db_or_none
from bot.store.rows import (
    DECISION_COLUMNS,
    EVENT_COLUMNS,
    ActionSpec,
    DecisionInput,
    DecisionRow,
    EventRow,
    TimerSpec,
    decision_row,
    event_row,
)

FOLLOWER_EVENT_KINDS = ("join", "screened", "catch_up")

_INSERT_EVENT = "INSERT INTO events (guild_id, user_id, kind, payload, at) VALUES (?, ?, ?, ?, ?)"
_MARK_PROCESSED = "UPDATE events SET processed_at = ? WHERE id = ? AND processed_at IS NULL"
_INSERT_DECISION = """
INSERT INTO decisions (guild_id, user_id, event_id, rule, action, due, reply, notify,
    explanation, misses, policy_version, observed, decided_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_OUTBOX = """
INSERT INTO outbox (decision_id, guild_id, user_id, kind, payload, status, attempts,
    not_before, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
"""
_INSERT_TIMER = """
INSERT INTO timers (guild_id, user_id, kind, due, decision_id, status, created_at)
VALUES (?, ?, ?, ?, ?, 'scheduled', ?)
"""
_DECIDED_MEMBER = """
UPDATE members SET last_decision_id = ?, declined_before = MAX(declined_before, ?),
    updated_at = ?
WHERE guild_id = ? AND user_id = ?
"""
_SELECT_DECISIONS = (
    f"SELECT {DECISION_COLUMNS} FROM decisions WHERE guild_id = ? AND user_id = ? "  # noqa: S608
    "ORDER BY id"
)
_SELECT_LATEST = (
    f"SELECT {DECISION_COLUMNS} FROM decisions WHERE guild_id = ? AND user_id = ? "  # noqa: S608
    "ORDER BY id DESC LIMIT 1"
)


def misses_json(misses: tuple[Miss, ...]) -> str:
    """Misses as compact JSON lists: [rule, condition, actual(, [parts])].

    Every decision stores its explanation; lists encode in about half the time of
    objects with repeated keys, which a burst of thousands of joins notices.
    """
    return dump_json([_miss_list(miss) for miss in misses])


def _miss_list(miss: Miss) -> list[Any]:
    if miss.parts:
        return [miss.rule, miss.condition, miss.actual, [_miss_list(p) for p in miss.parts]]
    return [miss.rule, miss.condition, miss.actual]


def insert_actions(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int,
    actions: Sequence[ActionSpec],
    at: datetime,
    decision_id: int | None,
) -> list[int]:
    """Queue outbox rows inside the caller's transaction; payloads are encoded here, so a
    payload JSON cannot hold fails the whole transaction."""
    now = to_db(at)
    ids: list[int] = []
    for action in actions:
        not_before = now if action.not_before is None else to_db(action.not_before)
        cur = conn.execute(
            _INSERT_OUTBOX,
            (decision_id, guild_id, user_id, action.kind, dump_json(action.payload),
             not_before, now, now),
        )  # fmt: skip
        assert cur.lastrowid is not None
        ids.append(cur.lastrowid)
    return ids


def insert_decision(conn: sqlite3.Connection, item: DecisionInput, now: str, at: datetime) -> int:
    """The decision, its outbox rows, its timer, the event processed, the member updated."""
    decision = item.decision
    cur = conn.execute(
        _INSERT_DECISION,
        (
            item.guild_id,
            item.user_id,
            item.event_id,
            decision.rule,
            decision.action.value,
            to_db_or_none(decision.due),
            decision.reply,
            decision.notify,
            "",  # rendered from the misses on read (see rows.decision_row)
            misses_json(decision.misses),
            decision.policy_version,
            int(item.observed),
            now,
        ),
    )
    decision_id = cur.lastrowid
    assert decision_id is not None
    if item.actions:
        insert_actions(conn, item.guild_id, item.user_id, item.actions, at, decision_id)
    if item.timer is not None:
        conn.execute(
            _INSERT_TIMER,
            (item.guild_id, item.user_id, item.timer.kind, to_db(item.timer.due), decision_id, now),
        )
    if item.event_id is not None:
        conn.execute(_MARK_PROCESSED, (now, item.event_id))
    declined = int(decision.action is Action.DECLINE)
    conn.execute(_DECIDED_MEMBER, (decision_id, declined, now, item.guild_id, item.user_id))
    return decision_id


class DecisionsMixin(StoreBase):
    # --- events ----------------------------------------------------------------------

    async def record_event(
        self, guild_id: int, user_id: int, kind: str, payload: dict[str, Any], at: datetime
    ) -> int:
        """Store an event before anything is done about it; returns its id."""
        params = (guild_id, user_id, kind, dump_json(payload), to_db(at))

        def work(conn: sqlite3.Connection) -> int:
            cur = conn.execute(_INSERT_EVENT, params)
            assert cur.lastrowid is not None
            return cur.lastrowid

        return await self._db.run(work)

    async def mark_event_processed(self, event_id: int, at: datetime) -> None:
        moment = to_db(at)
        await self._db.run(lambda conn: conn.execute(_MARK_PROCESSED, (moment, event_id)))

    async def unprocessed_events(self, kinds: Collection[str] | None = None) -> list[EventRow]:
        """Events stored but never processed (a crash came between), oldest first."""
        sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE processed_at IS NULL"  # noqa: S608
        params: tuple[str, ...] = ()
        if kinds is not None:
            if not kinds:
                return []
            params = tuple(kinds)
            sql += f" AND kind IN ({placeholders(params)})"
        sql += " ORDER BY id"
        rows = await self._db.run(lambda conn: conn.execute(sql, params).fetchall())
        return [event_row(raw) for raw in rows]

    async def events_without_decision(self, kinds: Collection[str] = FOLLOWER_EVENT_KINDS) -> int:
        """How many stored events of these kinds were never processed."""
        if not kinds:
            return 0
        params = tuple(kinds)
        sql = (
            "SELECT COUNT(*) FROM events WHERE processed_at IS NULL "  # noqa: S608 (only ?s added)
            f"AND kind IN ({placeholders(params)})"
        )
        raw = await self._db.run(lambda conn: conn.execute(sql, params).fetchone())
        return int(raw[0])

    # --- decisions -------------------------------------------------------------------

    async def record_decision(
        self,
        guild_id: int,
        user_id: int,
        event_id: int | None,
        decision: Decision,
        *,
        observed: bool,
        at: datetime,
        actions: Sequence[ActionSpec] = (),
        timer: TimerSpec | None = None,
    ) -> int:
        """Store a decision with everything it causes, in one committed transaction.

        Inserts the decision, its outbox rows and its timer (if any), marks the event
        processed, and updates the member (last decision; declined before). Either all
        of it is stored or none of it.
        """
        item = DecisionInput(guild_id, user_id, event_id, decision, observed, actions, timer)
        now = to_db(at)
        return await self._db.transaction(lambda conn: insert_decision(conn, item, now, at))

    async def decisions_for(self, guild_id: int, user_id: int) -> list[DecisionRow]:
        """Every decision about a member, oldest first."""
        rows = await self._db.run(
            lambda conn: conn.execute(_SELECT_DECISIONS, (guild_id, user_id)).fetchall()
        )
        return [decision_row(raw) for raw in rows]

    async def latest_decision(self, guild_id: int, user_id: int) -> DecisionRow | None:
        raw = await self._db.run(
            lambda conn: conn.execute(_SELECT_LATEST, (guild_id, user_id)).fetchone()
        )
        return None if raw is None else decision_row(raw)

    async def count_decisions(self, guild_id: int | None = None) -> int:
        params: tuple[int, ...] = ()
        if guild_id is None:
            sql = "SELECT COUNT(*) FROM decisions"
        else:
            sql, params = "SELECT COUNT(*) FROM decisions WHERE guild_id = ?", (guild_id,)
        raw = await self._db.run(lambda conn: conn.execute(sql, params).fetchone())
        return int(raw[0])

    async def pending_reviews(self, guild_id: int | None = None) -> list[DecisionRow]:
        """Members still present whose latest decision is ``review``, oldest first."""
        columns = ", ".join(f"d.{name.strip()}" for name in DECISION_COLUMNS.split(","))
        sql = (
            f"SELECT {columns} FROM members AS m JOIN decisions AS d "  # noqa: S608 (constant)
            "ON d.id = m.last_decision_id WHERE d.action = 'review' AND m.present = 1"
        )
        params: tuple[int, ...] = ()
        if guild_id is not None:
            sql += " AND m.guild_id = ?"
            params = (guild_id,)
        sql += " ORDER BY d.id"
        rows = await self._db.run(lambda conn: conn.execute(sql, params).fetchall())
        return [decision_row(raw) for raw in rows]
