"""The Store's methods for the daily digest: a mixin of Store, kept apart so store.py
stays small. Snapshots and the last date sent, its one timer, and its content reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from bot.store import _digest_snapshots, _digest_state, _digests
from bot.store._digest_snapshots import Snapshot
from bot.store._digest_state import DigestState
from bot.store._digests import CleanupItem, FailedAction, ReviewItem, TimerItem
from bot.store.db import Database, to_db
from bot.store.kinds import TimerKind
from bot.store.rows import ActionSpec


class DigestStore:
    _db: Database

    async def digest_state(self) -> DigestState:
        """The last local date a scheduled digest was sent, and when."""
        return await self._db.run(_digest_state.get_state)

    async def mark_digest_sent(self, local_date: date, at: datetime) -> bool:
        """Count `local_date` as sent without sending (a first start); False if it was."""
        moment = to_db(at)
        return await self._db.transaction(
            lambda conn: _digest_state.advance(conn, local_date, moment)
        )

    async def reserve_digest_snapshot(self, local_date: date, reason: str, at: datetime) -> int:
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _digest_snapshots.reserve_snapshot(conn, local_date, reason, moment)
        )

    async def complete_digest(
        self,
        snapshot_id: int,
        pages: list[dict[str, Any]],
        at: datetime,
        *,
        sent_for: date | None,
        send: tuple[int, ActionSpec] | None,
    ) -> bool:
        """Pages stored, first page queued and (scheduled) the date recorded, atomically;
        False if `sent_for`'s digest was already sent (nothing done then)."""
        return await self._db.transaction(
            lambda conn: _digests.complete_digest(conn, snapshot_id, pages, sent_for, at, send)
        )

    async def digest_snapshot(self, snapshot_id: int) -> Snapshot | None:
        return await self._db.run(lambda conn: _digest_snapshots.get_snapshot(conn, snapshot_id))

    async def digest_page(self, snapshot_id: int, page: int) -> tuple[dict[str, Any] | None, int]:
        """(the stored page, the snapshot's page count); (None, 0) for an unknown one."""
        return await self._db.run(lambda conn: _digest_snapshots.get_page(conn, snapshot_id, page))

    async def replace_digest_timer(self, due: datetime, at: datetime) -> bool:
        """Exactly one digest timer, due at `due`; True if one was added."""
        return await self._db.transaction(lambda conn: _digests.replace_digest_timer(conn, due, at))

    async def digest_reviews(self) -> list[ReviewItem]:
        """Every pending review, oldest first."""
        return await self._db.run(_digests.pending_reviews)

    async def digest_timers(
        self, kind: TimerKind, after: datetime, until: datetime
    ) -> list[TimerItem]:
        """Scheduled timers of `kind` due in (after, until]."""
        start, end = to_db(after), to_db(until)
        return await self._db.run(lambda conn: _digests.timers_due_between(conn, kind, start, end))

    async def digest_failed_actions(self, since: datetime) -> list[FailedAction]:
        moment = to_db(since)
        return await self._db.run(lambda conn: _digests.failed_actions(conn, moment))

    async def decision_counts(self, since: datetime, until: datetime) -> list[tuple[str, str, int]]:
        """(action, rule, count) of the decisions made in [since, until)."""
        start, end = to_db(since), to_db(until)
        return await self._db.run(lambda conn: _digests.decision_counts(conn, start, end))

    async def action_counts_by_range(
        self, ranges: Sequence[tuple[datetime, datetime]]
    ) -> list[dict[str, int]]:
        """Decisions per action in each [start, end) (the owner's last 7 days)."""
        bounds = [(to_db(a), to_db(b)) for a, b in ranges]
        return await self._db.run(
            lambda conn: [_digests.action_counts(conn, a, b) for a, b in bounds]
        )

    async def cleanup_candidates(
        self, silent_before: datetime, left_since: datetime
    ) -> list[CleanupItem]:
        a, b = to_db(silent_before), to_db(left_since)
        return await self._db.run(lambda conn: _digests.cleanup_candidates(conn, a, b))
