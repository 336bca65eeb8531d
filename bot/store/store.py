"""The Store: all of Followback's SQL, behind one async class.

    store = await Store.open("data/followback.sqlite3")   # or ":memory:"
    ...
    await store.close()

Times go in as aware datetimes (naive ones are refused) and come back as aware UTC
datetimes. No method reads the clock: every time is passed in.

Each table's SQL lives in its own module (``_members``, ``_events``, ``_decisions``,
``_outbox``, ``_timers``, ``_dm_log``, ``_reply_rotation``, ``_reply_log``) as plain
functions over a connection; what spans tables is in ``_transactions``. This class
only puts them on aiosqlite's thread, each call one unit of work (see db.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.store import (
    _bot_settings,
    _decisions,
    _dm_log,
    _events,
    _members,
    _outbox,
    _reconcile,
    _reply_log,
    _reply_rotation,
    _timers,
    _transactions,
)
from bot.store._members import ListedRow
from bot.store.db import Database, dump_json, from_db, journal_mode, to_db
from bot.store.digest_store import DigestStore
from bot.store.join_cache import GuildJoins
from bot.store.kinds import FOLLOWER_EVENT_KINDS
from bot.store.mention_store import MentionStore
from bot.store.nonces import NONCE_PREFIX_KEY, check_nonce_prefix, message_nonce, new_nonce_prefix
from bot.store.owner_controls import OwnerControls
from bot.store.rows import (
    ActionSpec,
    DecisionInput,
    DecisionRow,
    EventRow,
    JoinInput,
    MemberRow,
    OutboxRow,
    TimerRow,
)


class Store(OwnerControls, DigestStore, MentionStore):
    def __init__(self, db: Database) -> None:
        self._db = db
        self._join_cache: dict[int, GuildJoins] = {}
        self._nonce_prefix: str | None = None

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        """Open (creating parent directories), migrate to the latest schema, and give the
        database its message nonce prefix if it has none yet."""
        store = cls(await Database.open(path))
        try:
            prefix = await store._db.run(
                lambda conn: _bot_settings.setting_made_once(
                    conn, NONCE_PREFIX_KEY, new_nonce_prefix()
                )
            )
            store._nonce_prefix = check_nonce_prefix(prefix)
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def nonce_prefix(self) -> str:
        """This database's random nonce prefix, made once and kept in it."""
        if self._nonce_prefix is None:
            raise RuntimeError("open the store with Store.open")
        return self._nonce_prefix

    def message_nonce(self, outbox_id: int) -> str:
        """The nonce for an outbox row's message: unique across databases, at most 25
        characters, the same on every attempt (Discord then returns the first message)."""
        return message_nonce(self.nonce_prefix, outbox_id)

    async def close(self) -> None:
        """Close the connection. Always close: aiosqlite's thread keeps the process alive."""
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def database(self) -> Database:
        """The connection, for the tests' own inspection queries."""
        return self._db

    @property
    def schema_version(self) -> int:
        return self._db.schema_version

    async def journal_mode(self) -> str:
        """ "wal" for a file database ("memory" for ":memory:")."""
        return await journal_mode(self._db)

    # --- members -----------------------------------------------------------------------

    async def record_joins(
        self, joins: Sequence[JoinInput], at: datetime
    ) -> list[tuple[int, MemberRow, bool]]:
        """Store many join events and upsert their members in one transaction.

        Returns (event id, member row, fresh) per join, in order. `fresh` is False for a
        repeated event of the same stay (a live join and the start-up catch-up); True
        for a join, a rejoin, or a repeat that shows screening completed. Events with
        nothing (yet) to decide, pending members' and repeats', are marked processed.
        A burst costs one thread hop and one commit per batch instead of several per
        member; that is what keeps the bot near a bare client's cost per event.
        """
        now = to_db(at)

        def work(conn: sqlite3.Connection) -> list[tuple[int, MemberRow, str]]:
            return [_transactions.join(conn, join, now, at) for join in joins]

        stored = await self._db.transaction(work)
        for join, (_, _, change) in zip(joins, stored, strict=True):
            cache = self._join_cache.get(join.guild_id)
            if change in _members.NEW_STAY and cache is not None:
                cache.add(join.joined_at)
        return [(event_id, row, change != _members.REPEAT) for event_id, row, change in stored]

    async def record_leave(
        self, guild_id: int, user_id: int, at: datetime, churn_window: timedelta
    ) -> MemberRow | None:
        """Not present any more; a leave soon after a follow-back counts as churn. The stay
        ends: its timers and unsent actions are cancelled in the same transaction."""
        return await self._db.transaction(
            lambda conn: _transactions.leave(conn, guild_id, user_id, at, churn_window)
        )

    async def record_screening_done(self, guild_id: int, user_id: int) -> None:
        await self._db.run(lambda conn: _members.record_screening_done(conn, guild_id, user_id))

    async def get_member(self, guild_id: int, user_id: int) -> MemberRow | None:
        return await self._db.run(lambda conn: _members.get_member(conn, guild_id, user_id))

    async def known_members(self, guild_id: int) -> dict[int, MemberRow]:
        """Every member of the guild ever stored (present or not), by user id."""
        rows = await self._db.run(lambda conn: _members.guild_members(conn, guild_id))
        return {row.user_id: row for row in rows}

    async def compare_members(
        self, guild_id: int, batches: Iterable[Sequence[ListedRow]]
    ) -> tuple[list[tuple[int, MemberRow | None]], list[int]]:
        """The guild's whole member list (in batches) compared with the members table in
        SQL: (followers whose stored row may differ, with it or None if never stored;
        stored-present members missing from the list). Only those rows become objects."""
        await self._db.run(_members.begin_listing)
        try:
            for batch in batches:
                await self._db.transaction(partial(_members.add_listed, batch=batch))
            return await self._db.run(
                lambda conn: (
                    _members.differing_from_listed(conn, guild_id),
                    _members.absent_from_listed(conn, guild_id),
                )
            )
        finally:
            await self._db.run(_members.end_listing)

    async def record_leaves(
        self,
        guild_id: int,
        leaves: Sequence[tuple[int, datetime]],
        at: datetime,
        churn_window: timedelta,
        *,
        tell: bool,
    ) -> list[tuple[int, MemberRow | None, list[str]]]:
        """Many leaves in one transaction, each as `record_leave` plus the leave event and
        the cancelled role additions and DMs: (user id, row after, waiting timers' kinds
        if ``tell``)."""
        if not leaves:
            return []
        return await self._db.transaction(
            lambda conn: _reconcile.record_leaves(
                conn, guild_id, leaves, at, churn_window, tell=tell
            )
        )

    async def recent_join_times(
        self, guild_id: int, since: datetime, until: datetime | None = None
    ) -> tuple[datetime, ...]:
        """Join times in the guild after ``since`` (and up to ``until``), oldest first."""
        cache = self._join_cache.get(guild_id)
        if cache is None or since < cache.floor:
            floor = to_db(since)
            times = await self._db.run(
                lambda conn: _members.join_times_since(conn, guild_id, floor)
            )
            # aiosqlite answers in queue order, so a join written before this query is in
            # its rows, and one written after is added to the new cache when it returns.
            cache = GuildJoins(since, times)
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
        counts = {
            "messages": messages,
            "links": links,
            "invites": invites,
            "attachments": attachments,
            "everyone_pings": everyone_pings,
            "owner_mentions": owner_mentions,
        }
        await self._db.run(lambda conn: _members.bump_activity(conn, guild_id, user_id, counts))

    async def bump_activities(self, bumps: Sequence[tuple[int, int, dict[str, int]]]) -> None:
        """Activity of many members in one transaction: (guild id, user id, counts) each."""
        await self._db.transaction(lambda conn: _members.bump_activities(conn, bumps))

    async def set_followed(
        self, guild_id: int, user_id: int, followed: bool, at: datetime, *, by_owner: bool = False
    ) -> None:
        """Record a follow-back (role given) or an unfollow (role taken away).

        ``by_owner`` means the owner did it by hand: an unfollow by hand is remembered
        (``unfollowed_by_owner``) so the bot never gives the role back on its own; a
        follow by hand clears that memory.
        """
        moment = to_db(at)
        await self._db.run(
            lambda conn: _members.set_followed(conn, guild_id, user_id, followed, moment, by_owner)
        )

    # --- events ------------------------------------------------------------------------

    async def record_event(
        self, guild_id: int, user_id: int, kind: str, payload: dict[str, Any], at: datetime
    ) -> int:
        """Store an event before anything is done about it; returns its id."""
        encoded, moment = dump_json(payload), to_db(at)
        return await self._db.run(
            lambda conn: _events.insert_event(conn, guild_id, user_id, kind, encoded, moment)
        )

    async def mark_event_processed(self, event_id: int, at: datetime) -> None:
        moment = to_db(at)
        await self._db.run(lambda conn: _events.mark_processed(conn, event_id, moment))

    async def unprocessed_events(self, kinds: Collection[str] | None = None) -> list[EventRow]:
        """Events stored but never processed (a crash came between), oldest first."""
        return await self._db.run(lambda conn: _events.unprocessed_events(conn, kinds))

    async def events_without_decision(self, kinds: Collection[str] = FOLLOWER_EVENT_KINDS) -> int:
        """How many stored events of these kinds were never processed."""
        return await self._db.run(lambda conn: _events.count_unprocessed(conn, kinds))

    # --- decisions -----------------------------------------------------------------------

    async def record_decisions(self, items: Sequence[DecisionInput], at: datetime) -> list[int]:
        """Store decisions with everything they cause, all or nothing, in one transaction.

        Per decision: the decision, its outbox rows and its timer (if any), its event
        marked processed, and the member updated (last decision; declined before).
        """
        now = to_db(at)

        def work(conn: sqlite3.Connection) -> list[int]:
            return [_transactions.decide(conn, item, now, at) for item in items]

        return await self._db.transaction(work)

    async def latest_decision(self, guild_id: int, user_id: int) -> DecisionRow | None:
        return await self._db.run(lambda conn: _decisions.latest_decision(conn, guild_id, user_id))

    async def count_decisions(self, guild_id: int | None = None) -> int:
        return await self._db.run(lambda conn: _decisions.count_decisions(conn, guild_id))

    # --- outbox --------------------------------------------------------------------------

    async def enqueue_actions(
        self,
        guild_id: int,
        user_id: int,
        actions: Sequence[ActionSpec],
        at: datetime,
        decision_id: int | None = None,
        *,
        stay: int | None = None,
    ) -> list[int]:
        """Queue actions outside a decision (all or none); returns the outbox ids. ``stay``:
        the member's stay they act for (they are cancelled if it ends first)."""
        if not actions:
            return []
        return await self._db.transaction(
            lambda conn: _outbox.insert_actions(
                conn, guild_id, user_id, actions, at, decision_id, stay
            )
        )

    async def due_actions(
        self, now: datetime, limit: int = 100, kinds: Collection[str] | None = None
    ) -> list[OutboxRow]:
        """Pending actions (of these kinds) whose time has come, oldest first."""
        moment = to_db(now)
        return await self._db.run(lambda conn: _outbox.due_actions(conn, moment, limit, kinds))

    async def next_action_due(self, kinds: Collection[str] | None = None) -> datetime | None:
        """The earliest ``not_before`` of the pending actions (of these kinds)."""
        return await self._db.run(lambda conn: _outbox.next_action_due(conn, kinds))

    async def claim_action(self, outbox_id: int, at: datetime) -> bool:
        """pending -> sending (attempts + 1), committed; False if someone else claimed it,
        or if its stay has ended (then it is cancelled: nothing acts for an ended stay)."""
        moment = to_db(at)
        return await self._db.transaction(
            lambda conn: _outbox.claim_action(conn, outbox_id, moment)
        )

    async def finish_action(
        self, row: OutboxRow, at: datetime, result: dict[str, Any] | None = None
    ) -> bool:
        """sending -> done with what it did, in one transaction: a DM logged (DM limits), a
        role change recorded as the member's follow state while its stay is current."""
        encoded = None if result is None else dump_json(result)
        return await self._db.transaction(lambda conn: _transactions.finish(conn, row, at, encoded))

    async def drop_if_stay_ended(self, outbox_id: int, at: datetime, note: str) -> bool:
        """Cancel a pending or in-doubt row whose stay has ended; False if still current."""
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _outbox.drop_if_stay_ended(conn, outbox_id, moment, note)
        )

    async def cancel_in_doubt(self, outbox_id: int, at: datetime, note: str) -> bool:
        """sending -> cancelled: an in-doubt row with nothing left to do."""
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _outbox.cancel_in_doubt(conn, outbox_id, moment, note)
        )

    async def open_role_members(self, guild_id: int) -> set[int]:
        """Members with a role change of the bot's own still queued or in doubt."""
        return await self._db.run(lambda conn: _outbox.open_role_members(conn, guild_id))

    async def complete_action(
        self, outbox_id: int, at: datetime, result: dict[str, Any] | None = None
    ) -> bool:
        """sending -> done."""
        moment, encoded = to_db(at), None if result is None else dump_json(result)
        return await self._db.run(
            lambda conn: _outbox.complete_action(conn, outbox_id, moment, encoded)
        )

    async def fail_action(
        self, outbox_id: int, at: datetime, code: int | None, message: str
    ) -> bool:
        """-> failed for good (Discord refused: never retried)."""
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _outbox.fail_action(conn, outbox_id, moment, code, message)
        )

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
        wait, moment = to_db(not_before), None if at is None else to_db(at)
        return await self._db.run(
            lambda conn: _outbox.retry_action(conn, outbox_id, wait, code, message, moment)
        )

    async def in_doubt_actions(self) -> list[OutboxRow]:
        """Actions claimed but never completed: a crash came between send and done."""
        return await self._db.run(_outbox.in_doubt_actions)

    async def mark_uncertain(self, outbox_id: int, at: datetime, note: str) -> bool:
        """In doubt and too old to re-send safely: settled as uncertain, never re-sent."""
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _outbox.mark_uncertain(conn, outbox_id, moment, note)
        )

    async def cancel_actions(
        self, guild_id: int, user_id: int, at: datetime, kinds: Collection[str] | None = None
    ) -> int:
        """Cancel a member's pending actions (of these kinds); returns how many."""
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _outbox.cancel_actions(conn, guild_id, user_id, moment, kinds)
        )

    # --- timers --------------------------------------------------------------------------

    async def scheduled_timers(self) -> list[TimerRow]:
        """Timers still waiting, earliest first (rebuilt into scheduler jobs at start)."""
        return await self._db.run(_timers.scheduled_timers)

    async def count_scheduled_timers(self) -> int:
        """How many timers wait (counted in SQL: no row decoded)."""
        return await self._db.run(_timers.count_scheduled)

    async def next_timer_due(self) -> datetime | None:
        """The earliest due time of a scheduled timer (one scheduler job waits for it)."""
        return await self._db.run(_timers.next_timer_due)

    async def due_timers(self, now: datetime, limit: int = 500) -> list[TimerRow]:
        """Scheduled timers due by ``now``, earliest first."""
        moment = to_db(now)
        return await self._db.run(lambda conn: _timers.due_timers(conn, moment, limit))

    async def claim_timer(self, timer_id: int, at: datetime) -> bool:
        """scheduled -> fired, committed; False if it already fired or was cancelled.
        (``at`` is recorded by finish_timer, which sets finished_at and the outcome.)"""
        to_db(at)  # refuse naive datetimes here too
        return await self._db.run(lambda conn: _timers.claim_timer(conn, timer_id))

    async def finish_timer(self, timer_id: int, at: datetime, outcome: str) -> bool:
        """Record what a fired timer did (claims it too, if it was still scheduled)."""
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _timers.finish_timer(conn, timer_id, moment, outcome)
        )

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
        return await self._db.transaction(
            lambda conn: _transactions.fire(conn, timer_id, at, outcome, actions)
        )

    async def postpone_timer(self, timer_id: int, due: datetime) -> bool:
        """A scheduled timer whose handler cannot act yet: due again at ``due`` (it stays
        scheduled); False if it had already fired or been cancelled."""
        moment = to_db(due)
        return await self._db.run(lambda conn: _timers.postpone_timer(conn, timer_id, moment))

    async def cancel_timer(self, timer_id: int, at: datetime, outcome: str) -> bool:
        """scheduled -> cancelled; False if it had already fired or been cancelled."""
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _timers.cancel_timer(conn, timer_id, moment, outcome)
        )

    async def cancel_timers(self, guild_id: int, user_id: int, at: datetime, outcome: str) -> int:
        """Cancel every scheduled timer of a member; returns how many."""
        moment = to_db(at)
        return await self._db.run(
            lambda conn: _timers.cancel_member_timers(conn, guild_id, user_id, moment, outcome)
        )

    # --- DM limits, reply rotation and cooldown ------------------------------------------

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
        count, last_any, last_user = await self._db.run(
            lambda conn: _dm_log.dm_counts(conn, user_id, start)
        )
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
        moment = to_db(at)
        await self._db.run(lambda conn: _dm_log.record_dm_sent(conn, user_id, outbox_id, moment))

    async def next_variant(self, template: str) -> int:
        """0, 1, 2, ... per template, persisted (the caller takes it modulo the variants)."""
        return await self._db.run(lambda conn: _reply_rotation.next_variant(conn, template))

    async def record_reply(self, guild_id: int, user_id: int, template: str, at: datetime) -> None:
        moment = to_db(at)
        await self._db.run(
            lambda conn: _reply_log.record_reply(conn, guild_id, user_id, template, moment)
        )

    async def last_reply_at(self, guild_id: int, user_id: int) -> datetime | None:
        """When the bot last auto-replied to this person in this guild (any template)."""
        return await self._db.run(lambda conn: _reply_log.last_reply_at(conn, guild_id, user_id))

    # --- inspection reads (today only tests use them; the owner's controls will) ---------

    async def decisions_for(self, guild_id: int, user_id: int) -> list[DecisionRow]:
        """Every decision about a member, oldest first."""
        return await self._db.run(lambda conn: _decisions.decisions_for(conn, guild_id, user_id))

    async def actions_for(self, guild_id: int, user_id: int) -> list[OutboxRow]:
        return await self._db.run(lambda conn: _outbox.actions_for(conn, guild_id, user_id))

    async def get_action(self, outbox_id: int) -> OutboxRow | None:
        return await self._db.run(lambda conn: _outbox.get_action(conn, outbox_id))

    async def timers_for(self, guild_id: int, user_id: int) -> list[TimerRow]:
        return await self._db.run(lambda conn: _timers.timers_for(conn, guild_id, user_id))

    async def get_timer(self, timer_id: int) -> TimerRow | None:
        return await self._db.run(lambda conn: _timers.get_timer(conn, timer_id))

    async def dms_sent_since(self, since: datetime) -> int:
        moment = to_db(since)
        return await self._db.run(lambda conn: _dm_log.dms_sent_since(conn, moment))
