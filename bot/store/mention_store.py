"""The Store's methods for mentions: a mixin of Store, kept apart so store.py stays small."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TypeVar

from bot.store import _channel_cursors, _members, _mentions, _outbox
from bot.store.db import Database, to_db
from bot.store.kinds import UNANSWERED_STATUSES, MentionStatus
from bot.store.mention_rows import MentionInput, MentionRow, MentionVerdict, ReplyRoom
from bot.store.rows import ActionSpec, MemberRow

T = TypeVar("T")


class MentionStore:
    _db: Database

    async def store_mention(
        self, item: MentionInput, verdict: MentionVerdict, at: datetime
    ) -> tuple[int, int | None] | None:
        """Store a mention with its decision (and its wait timer), in one transaction:
        (mention id, timer id), or None if the message was stored before."""
        now = to_db(at)
        return await self._db.transaction(
            lambda conn: _mentions.store_mention(conn, item, verdict, now)
        )

    async def decide_and_store_mention(
        self,
        item: MentionInput,
        decide: Callable[[MemberRow | None], T],
        verdict_of: Callable[[T], MentionVerdict],
        at: datetime,
    ) -> tuple[T, tuple[int, int | None] | None]:
        """Read the author's stored row, `decide` on it (pure: the policy, no I/O) and store
        the mention with that verdict, all in one unit of work: one thread hop a mention.
        Returns what `decide` returned, and (mention id, timer id) or None if seen before."""
        now = to_db(at)

        def work(conn: sqlite3.Connection) -> tuple[T, tuple[int, int | None] | None]:
            decided = decide(_members.get_member(conn, item.guild_id, item.author_id))
            return decided, _mentions.store_mention(conn, item, verdict_of(decided), now)

        return await self._db.transaction(work)

    async def mention_for_timer(self, timer_id: int) -> MentionRow | None:
        return await self._db.run(lambda conn: _mentions.mention_for_timer(conn, timer_id))

    async def get_mention(self, mention_id: int) -> MentionRow | None:
        return await self._db.run(lambda conn: _mentions.get_mention(conn, mention_id))

    async def mention_by_message(self, message_id: int) -> MentionRow | None:
        return await self._db.run(lambda conn: _mentions.mention_by_message(conn, message_id))

    async def mentions_in(self, guild_id: int) -> list[MentionRow]:
        """Every mention stored in a guild, oldest first."""
        return await self._db.run(lambda conn: _mentions.mentions_in(conn, guild_id))

    async def waiting_mentions(self) -> list[MentionRow]:
        """Mentions whose reply still waits (their timers fire them; listed at start)."""
        return await self._db.run(_mentions.waiting_mentions)

    async def reply_room(
        self,
        mention: MentionRow,
        template: str,
        *,
        cooldown_since: datetime,
        budget_since: datetime,
    ) -> ReplyRoom:
        """The person's last reply of this template (inside the cooldown), the channel's
        replies since ``budget_since``, and the variant the person last got."""
        cool, budget = to_db(cooldown_since), to_db(budget_since)
        return await self._db.run(
            lambda conn: _mentions.reply_room(conn, mention, template, cool, budget)
        )

    async def queue_mention_reply(
        self, mention: MentionRow, template: str, variant: int, action: ActionSpec, at: datetime
    ) -> int | None:
        """Queue the reply, log it for the cooldown, settle the mention and fire its timer,
        in one transaction; the outbox id, or None if the mention was settled meanwhile."""
        return await self._db.transaction(
            lambda conn: _mentions.queue_reply(conn, mention, template, variant, action, at)
        )

    async def settle_mention(
        self, mention_id: int, status: MentionStatus, outcome: str, at: datetime
    ) -> bool:
        """A waiting mention settled without a reply; False if it was settled already."""
        now = to_db(at)
        return await self._db.transaction(
            lambda conn: _mentions.settle(conn, mention_id, status, outcome, now)
        )

    async def owner_posted(
        self, channel_id: int, message_id: int, outcome: str, at: datetime
    ) -> list[int]:
        """Settle the mentions waiting in the channel from before the owner's message
        (their timers cancelled); returns their ids."""
        now = to_db(at)
        return await self._db.transaction(
            lambda conn: _mentions.owner_posted(conn, channel_id, message_id, outcome, now)
        )

    async def mention_message_event(
        self, message_id: int, status: MentionStatus, outcome: str, at: datetime
    ) -> list[int]:
        """The owner reacted to, or someone deleted, a waiting mention's message."""
        now = to_db(at)
        return await self._db.transaction(
            lambda conn: _mentions.message_event(conn, message_id, status, outcome, now)
        )

    async def unanswered_mentions(self, since: datetime, until: datetime) -> list[MentionRow]:
        """Mentions posted in [since, until) that nobody answered: the rules said notify,
        they were found too old at start, or their reply was refused. Oldest first."""
        start, end = to_db(since), to_db(until)

        def read(conn: sqlite3.Connection) -> list[MentionRow]:
            found = _mentions.unanswered_or_queued(conn, start, end)
            return [m for m in found if m.status in UNANSWERED_STATUSES or _refused(conn, m)]

        return await self._db.run(read)

    async def save_channel_cursors(
        self, cursors: Collection[tuple[int, int, int]], at: datetime
    ) -> None:
        """(channel, guild, last message id seen) per channel; a cursor never moves back."""
        if not cursors:
            return
        now = to_db(at)
        await self._db.transaction(lambda conn: _channel_cursors.save_cursors(conn, cursors, now))

    async def channel_cursors(self, guild_id: int) -> dict[int, int]:
        """The last message id seen per channel of the guild."""
        return await self._db.run(lambda conn: _channel_cursors.cursors(conn, guild_id))


def _refused(conn: sqlite3.Connection, mention: MentionRow) -> bool:
    """The mention's reply went to the outbox and Discord refused it (or it is uncertain)."""
    if mention.outbox_id is None:
        return False
    row = _outbox.get_action(conn, mention.outbox_id)
    return row is not None and row.status in ("failed", "uncertain")
