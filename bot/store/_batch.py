"""Batches: many joins, then many decisions, each batch in one transaction.

A burst of joins costs one thread hop and one commit per batch instead of several
per member; that is what keeps the bot near a bare client's cost per event.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bot.store._base import StoreBase
from bot.store._decisions import _INSERT_EVENT, _MARK_PROCESSED, insert_decision
from bot.store._members import NEW_STAY, _GuildJoins, upsert_join
from bot.store.db import dump_json, to_db
from bot.store.rows import (
    DecisionInput,
    JoinInput,
    MemberRow,
)


def _join_payload(join: JoinInput) -> str:
    if join.payload:
        return dump_json(
            {"pending": join.pending, "joined_at": to_db(join.joined_at)} | join.payload
        )
    # The common case, written without the JSON encoder (a burst has thousands).
    pending = "true" if join.pending else "false"
    return f'{{"pending":{pending},"joined_at":"{to_db(join.joined_at)}"}}'


class BatchMixin(StoreBase):
    _join_cache: dict[int, _GuildJoins]

    async def record_joins(
        self, joins: Sequence[JoinInput], at: datetime
    ) -> list[tuple[int, MemberRow, bool]]:
        """Store many join events and upsert their members in one transaction.

        Returns (event id, member row, fresh) per join, in order. `fresh` is False for a
        repeated event of the same stay (a live join and the start-up catch-up); True
        for a join, a rejoin, or a repeat that shows screening completed. Events with
        nothing (yet) to decide, pending members' and repeats', are marked processed.
        """
        now = to_db(at)

        def work(conn: sqlite3.Connection) -> list[tuple[int, MemberRow, str]]:
            out = []
            for join in joins:
                cur = conn.execute(
                    _INSERT_EVENT,
                    (join.guild_id, join.user.user_id, join.kind, _join_payload(join), now),
                )
                event_id = cur.lastrowid
                assert event_id is not None
                row, change = upsert_join(
                    conn, join.guild_id, join.user, join.joined_at, join.pending, at
                )
                if join.pending or change == "repeat":
                    conn.execute(_MARK_PROCESSED, (now, event_id))
                out.append((event_id, row, change))
            return out

        stored = await self._db.transaction(work)
        for join, (_, _, change) in zip(joins, stored, strict=True):
            cache = self._join_cache.get(join.guild_id)
            if change in NEW_STAY and cache is not None:
                cache.add(join.joined_at)
        return [(event_id, row, change != "repeat") for event_id, row, change in stored]

    async def record_decisions(self, items: Sequence[DecisionInput], at: datetime) -> list[int]:
        """Store many decisions with everything they cause, all or nothing."""
        now = to_db(at)

        def work(conn: sqlite3.Connection) -> list[int]:
            return [insert_decision(conn, item, now, at) for item in items]

        return await self._db.transaction(work)
