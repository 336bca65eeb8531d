"""Mentions of the owner or the bot: stored, decided, and answered with manners.

The Discord layer hands over what it saw (a mention, the owner posting or reacting, a
message deleted); one worker handles them in order, so the owner's answer is always
weighed after the mention it answers. Each mention is stored with its decision in one
transaction; a reply waits `reply_after` as a stored MENTION_WAIT timer, which the owner
cancels by posting in the channel, replying or reacting. When the wait ends the reply
limits are checked against the store (one reply per person per template per
`reply_cooldown`, a per-channel budget per hour) and the reply is queued in the outbox
in the same transaction that logs it: a restart forgets nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.policy import MentionFacts, Policy, render_reply, text_rules
from bot.policy.matchers import channel_shown
from bot.service._mention_rules import (
    HOUR,
    mention_facts,
    pick_variant,
    stranger_facts,
    verdict_for,
)
from bot.service.clock import Clock
from bot.service.events import EventBus, MentionDecided, ReplySkipped
from bot.service.planning import Hooks
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import FIRED, TimerResult, TimerScheduler
from bot.store import (
    ActionSpec,
    MemberRow,
    MentionInput,
    MentionRow,
    MentionStatus,
    MentionVerdict,
    OutboxKind,
    Store,
    TimerKind,
    TimerRow,
    UserInfo,
    facts_from_row,
)

log = logging.getLogger(__name__)

CURSOR_FLUSH = 2.0  # seconds between saves of the last message seen per channel


@dataclass(frozen=True, slots=True)
class SeenMention:
    """A mention as the Discord layer saw it: the message, its author, their roles."""

    item: MentionInput
    author: UserInfo
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _OwnerPosted:
    channel_id: int
    message_id: int
    reply_to: int | None


@dataclass(frozen=True, slots=True)
class _OnMessage:
    message_id: int
    status: MentionStatus
    reason: str


_Work = SeenMention | _OwnerPosted | _OnMessage


class MentionService:
    def __init__(
        self,
        store: Store,
        policies: PolicyHolder,
        clock: Clock,
        *,
        hooks: Hooks | None = None,
        events: EventBus | None = None,
    ) -> None:
        self._store = store
        self._policies = policies
        self._clock = clock
        self._hooks = hooks or Hooks()
        self._events = events or EventBus()
        self._queue: asyncio.Queue[_Work] = asyncio.Queue()
        self._answering = asyncio.Lock()  # the limits are read and written as one step
        self._cursors: dict[int, tuple[int, int]] = {}  # channel -> (guild, last message id)
        self._tasks: list[asyncio.Task[None]] = []

    # --- wiring ----------------------------------------------------------------------

    def register_timers(self, timers: TimerScheduler) -> None:
        timers.register(TimerKind.MENTION_WAIT, self._wait_over)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name="followback-mentions"),
            asyncio.create_task(self._flush_cursors_often(), name="followback-cursors"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.flush_cursors()

    # --- what the Discord layer hands over (cheap: no await) -------------------------

    def message_seen(self, guild_id: int, channel_id: int, message_id: int) -> None:
        """Any message in a watched channel: where the next start's catch-up begins."""
        known = self._cursors.get(channel_id)
        if known is None or known[1] < message_id:
            self._cursors[channel_id] = (guild_id, message_id)

    def mention(self, seen: SeenMention) -> None:
        self._queue.put_nowait(seen)

    def owner_posted(self, channel_id: int, message_id: int, reply_to: int | None = None) -> None:
        """The owner posted in a channel or thread (maybe a reply): they answered."""
        self._queue.put_nowait(_OwnerPosted(channel_id, message_id, reply_to))

    def owner_reacted(self, message_id: int) -> None:
        self._queue.put_nowait(
            _OnMessage(message_id, MentionStatus.OWNER_ANSWERED, "the owner reacted to it")
        )

    def message_deleted(self, message_id: int) -> None:
        self._queue.put_nowait(
            _OnMessage(message_id, MentionStatus.DELETED, "the message was deleted")
        )

    async def drain(self) -> None:
        """Wait until everything handed over so far is handled (tests, benchmarks)."""
        await self._queue.join()

    # --- start-up --------------------------------------------------------------------

    async def channel_cursors(self, guild_id: int) -> dict[int, int]:
        """The last message seen per channel, stored and since (the catch-up's start)."""
        stored = await self._store.channel_cursors(guild_id)
        for channel_id, (guild, last) in self._cursors.items():
            if guild == guild_id and last > stored.get(channel_id, 0):
                stored[channel_id] = last
        return stored

    async def catch_up(
        self, found: Sequence[SeenMention], owner_posts: Sequence[tuple[int, int]]
    ) -> int:
        """Mentions found in channel history at start, and the owner's posts there, oldest
        first per channel: each mention handled like a live one, except that its reply
        waits for the timer even when due (so the owner's later posts count first).
        Returns how many were new."""
        new = 0
        for seen in found:
            new += await self._store_and_decide(seen, answer_now=False)
        for channel_id, message_id in owner_posts:
            await self._owner_posted(_OwnerPosted(channel_id, message_id, None))
        return new

    # --- the worker ------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            work = await self._queue.get()
            try:
                if isinstance(work, SeenMention):
                    await self._store_and_decide(work, answer_now=True)
                elif isinstance(work, _OwnerPosted):
                    await self._owner_posted(work)
                else:
                    await self._on_message(work)
            except Exception:
                log.exception("mention work %r failed", work)
            finally:
                self._queue.task_done()

    async def _store_and_decide(self, seen: SeenMention, *, answer_now: bool) -> int:
        item = seen.item
        now = self._clock.now()
        policy = self._policies.current

        def decide(row: MemberRow | None) -> tuple[MentionVerdict, str, MentionFacts]:
            # Runs inside the store's unit of work: pure, the policy only.
            if row is not None:
                author = facts_from_row(row, observed=False, roles=seen.roles)
            else:
                author = stranger_facts(seen.author, seen.roles)
            facts = mention_facts(item, author)
            return (*verdict_for(policy, item, facts, now), facts)

        (verdict, why, facts), stored = await self._store.decide_and_store_mention(
            item, decide, lambda decided: decided[0], now
        )
        if stored is None:
            return 0  # seen before (live, then again in the start-up history)
        mention_id, _ = stored
        if self._events.listening:
            self._events.emit(
                MentionDecided(
                    now,
                    item.guild_id,
                    item.author_id,
                    item.author_name,
                    item.message_id,
                    channel_shown(facts),
                    verdict.action,
                    verdict.rule,
                    verdict.template,
                    verdict.status,
                    verdict.outcome,
                    verdict.wait_until,
                    why,
                    item.source,
                )
            )
        log.debug(
            "mention %s by %s: %s (%s)", item.message_id, item.author_name, verdict.status,
            verdict.explanation,
        )  # fmt: skip
        if verdict.wait_until is None:
            return 1
        if answer_now and verdict.wait_until <= now:
            mention = await self._store.get_mention(mention_id)
            if mention is not None:
                await self._answer(mention)
        else:
            self._hooks.schedule_timer(verdict.wait_until)
        return 1

    async def _owner_posted(self, work: _OwnerPosted) -> None:
        now = self._clock.now()
        settled = await self._store.owner_posted(
            work.channel_id, work.message_id, "the owner answered first", now
        )
        if work.reply_to is not None:
            settled += await self._store.mention_message_event(
                work.reply_to, MentionStatus.OWNER_ANSWERED, "the owner replied to it", now
            )
        for mention_id in settled:
            await self._tell_skipped(mention_id, now)

    async def _on_message(self, work: _OnMessage) -> None:
        now = self._clock.now()
        settled = await self._store.mention_message_event(
            work.message_id, work.status, work.reason, now
        )
        for mention_id in settled:
            await self._tell_skipped(mention_id, now)

    # --- the wait is over: answer, within the limits ---------------------------------

    async def _wait_over(self, timer: TimerRow) -> TimerResult:
        mention = await self._store.mention_for_timer(timer.id)
        if mention is None:
            await self._store.finish_timer(timer.id, self._clock.now(), "no such mention")
            return FIRED
        if mention.status != MentionStatus.WAITING:
            await self._store.finish_timer(timer.id, self._clock.now(), f"{mention.status}")
            return FIRED
        await self._answer(mention)
        return FIRED

    async def _answer(self, mention: MentionRow) -> None:
        async with self._answering:
            now = self._clock.now()
            policy = self._policies.current
            template = policy.replies.get(mention.template or "")
            if template is None:
                await self._skip(mention, f"reply template {mention.template!r} not found", now)
                return
            room = await self._store.reply_room(
                mention,
                template.name,
                cooldown_since=now - policy.limits.reply_cooldown,
                budget_since=now - HOUR,
            )
            if room.last_same_reply is not None:
                when = room.last_same_reply.isoformat(timespec="minutes")
                reason = f"cooldown: {template.name!r} already went to them at {when}"
                await self._skip(mention, reason, now)
                return
            budget = policy.replying.channel_budget
            if room.channel_replies >= budget:
                reason = f"channel budget: {room.channel_replies} replies there this hour"
                await self._skip(mention, reason, now)
                return
            counter = await self._store.next_variant(template.name)
            variant = pick_variant(counter, len(template.variants), room.last_variant)
            name = mention.author_name
            owner = policy.owner.name or "the owner"
            text = render_reply(template, variant, name=name, owner=owner)
            action = ActionSpec(
                OutboxKind.REPLY,
                {
                    "channel_id": mention.channel_id,
                    "message_id": mention.message_id,
                    "text": text,
                    "template": template.name,
                    "silent": template.silent,
                    "mention_id": mention.id,
                },
            )
            queued = await self._store.queue_mention_reply(
                mention, template.name, variant, action, now
            )
        if queued is not None:
            self._hooks.wake_outbox()

    async def _skip(self, mention: MentionRow, reason: str, now: datetime) -> None:
        if await self._store.settle_mention(mention.id, MentionStatus.SKIPPED, reason, now):
            await self._tell_skipped(mention.id, now)

    async def _tell_skipped(self, mention_id: int, now: datetime) -> None:
        mention = await self._store.get_mention(mention_id)
        if mention is None:
            return
        log.info("mention %s: no reply, %s", mention.message_id, mention.outcome)
        if self._events.listening:
            self._events.emit(
                ReplySkipped(
                    now,
                    mention.guild_id,
                    mention.author_id,
                    mention.author_name,
                    mention.message_id,
                    mention.status,
                    mention.outcome or "",
                )
            )

    # --- the last message seen per channel -------------------------------------------

    async def flush_cursors(self) -> None:
        if not self._cursors:
            return
        cursors = [(c, g, m) for c, (g, m) in self._cursors.items()]
        await self._store.save_channel_cursors(cursors, self._clock.now())

    async def _flush_cursors_often(self) -> None:
        while True:
            await asyncio.sleep(CURSOR_FLUSH)
            try:
                await self.flush_cursors()
            except Exception:
                log.exception("saving the channel cursors failed; trying again")


def clock_time_for(clock: Clock, real: datetime) -> datetime:
    """A real moment (a message's snowflake time) on the bot's clock (fast in tests)."""
    now = clock.now()
    real_now = clock.real_time_for(now)
    per_hour = clock.real_time_for(now + HOUR) - real_now  # real time per clock hour
    if per_hour <= timedelta(0):
        return real
    return now + (real - real_now) * (HOUR / per_hour)


def unreadable_text_rules(policy: Policy, message_content: bool) -> str | None:
    """What `followback run` says at start when text rules cannot match, or None."""
    names = [] if message_content else text_rules(policy)
    if not names:
        return None
    return (
        "without the Message Content intent the text of a mention is unknown (unless it "
        f"names the bot), so these mention rules cannot match: {', '.join(map(repr, names))}"
    )
