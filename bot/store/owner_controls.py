"""The Store's methods for the owner's controls (reviews, owner actions, command sync,
settings, stats): a mixin of Store, kept apart so store.py stays small."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from bot.store import (
    _bot_settings,
    _command_sync,
    _decisions,
    _dm_log,
    _outbox,
    _owner_actions,
    _review_verdicts,
    _reviews,
)
from bot.store._owner_actions import OwnerActionRow
from bot.store._review_verdicts import PendingReviewRow, VerdictRow
from bot.store._reviews import OwnerDecision, ReviewOutcome
from bot.store.db import Database, to_db


class OwnerControls:
    _db: Database

    # --- reviews ---------------------------------------------------------------------

    async def pending_reviews(
        self, guild_ids: Collection[int] | None = None, *, limit: int = 10, offset: int = 0
    ) -> tuple[list[PendingReviewRow], int]:
        """One page of held reviews, newest first, and how many are held in all."""
        return await self._db.run(
            lambda conn: _review_verdicts.pending_reviews(conn, guild_ids, limit, offset)
        )

    async def decide_review(
        self, decision_id: int, owner: OwnerDecision, at: datetime
    ) -> ReviewOutcome:
        """Approve/decline only if still pending, with what it causes, all or nothing."""
        return await self._db.transaction(
            lambda conn: _reviews.decide_review(conn, decision_id, owner, at)
        )

    async def decide_by_hand(
        self, guild_id: int, user_id: int, owner: OwnerDecision, at: datetime
    ) -> int:
        return await self._db.transaction(
            lambda conn: _reviews.decide_by_hand(conn, guild_id, user_id, owner, at)
        )

    async def decision_member(self, decision_id: int) -> tuple[int, int] | None:
        """(guild id, user id) of a stored decision; None for no such decision."""
        return await self._db.run(lambda conn: _decisions.decision_member(conn, decision_id))

    async def review_verdict(self, decision_id: int) -> VerdictRow | None:
        return await self._db.run(lambda conn: _review_verdicts.verdict_for(conn, decision_id))

    async def review_pending(self, decision_id: int) -> bool:
        return await self._db.run(
            lambda conn: _review_verdicts.review_state(conn, decision_id) is True
        )

    # --- owner actions ---------------------------------------------------------------

    async def record_owner_action(
        self,
        actor_id: int,
        action: str,
        at: datetime,
        *,
        guild_id: int | None = None,
        user_id: int | None = None,
        detail: str = "",
        policy_version: str = "",
    ) -> int:
        moment = to_db(at)
        return await self._db.transaction(
            lambda conn: _owner_actions.record_owner_action(
                conn,
                actor_id,
                action,
                moment,
                guild_id=guild_id,
                user_id=user_id,
                detail=detail,
                policy_version=policy_version,
            )
        )

    async def owner_actions_for(self, guild_id: int, user_id: int) -> list[OwnerActionRow]:
        return await self._db.run(
            lambda conn: _owner_actions.owner_actions_for(conn, guild_id, user_id)
        )

    async def recent_owner_actions(self, limit: int = 20) -> list[OwnerActionRow]:
        return await self._db.run(lambda conn: _owner_actions.recent_owner_actions(conn, limit))

    # --- command sync ----------------------------------------------------------------

    async def synced_commands_hash(self, scope: int) -> str | None:
        return await self._db.run(lambda conn: _command_sync.synced_hash(conn, scope))

    async def record_commands_synced(self, scope: int, payload_hash: str, at: datetime) -> None:
        moment = to_db(at)
        await self._db.transaction(
            lambda conn: _command_sync.record_sync(conn, scope, payload_hash, moment)
        )

    # --- settings --------------------------------------------------------------------

    async def get_setting(self, key: str) -> str | None:
        return await self._db.run(lambda conn: _bot_settings.get_setting(conn, key))

    async def set_setting(
        self, key: str, value: str, at: datetime, *, by: int | None = None, action: str = ""
    ) -> None:
        """Set a setting; with `action`, the owner action is recorded in the same write."""
        moment = to_db(at)

        def work(conn: sqlite3.Connection) -> None:
            _bot_settings.set_setting(conn, key, value, by, moment)
            if action and by is not None:
                _owner_actions.record_owner_action(conn, by, action, moment)

        await self._db.transaction(work)

    # --- stats -----------------------------------------------------------------------

    async def stats(self, start: datetime | None, end: datetime) -> StatsRow:
        """Decisions by rule and action, DMs sent and refused, owner actions in [start, end)."""
        span = ("0000" if start is None else to_db(start), to_db(end))  # "0000": the beginning

        def work(conn: sqlite3.Connection) -> StatsRow:
            return StatsRow(
                tuple(_decisions.decisions_by_rule(conn, *span)),
                _dm_log.dms_sent_between(conn, *span),
                _outbox.dms_refused_between(conn, *span),
                _owner_actions.owner_actions_between(conn, *span),
            )

        return await self._db.run(work)


@dataclass(frozen=True, slots=True)
class StatsRow:
    by_rule: tuple[tuple[str, str, int], ...]  # (rule, action, count), most first
    dms_sent: int
    dms_refused: int
    owner_actions: int
