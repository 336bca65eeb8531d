"""The daily digest: gathered from the store, stored as a snapshot, sent through the outbox.

When: the times come from bot.service.digest_schedule (the functions `followback digest
next` prints), never from a cron trigger. Exactly one DIGEST timer is kept in the timer
table, due at `next_slot(...)`; the dispatcher (bot.service.timers) fires it, and the
handler sends what `due_now(...)` says is owed, then schedules the next one. At start-up
`start()` sends a digest missed while the bot was down, once, and re-arms the timer.

Once per local day: the snapshot's pages, the outbox row for its first page and the last
local date sent are stored in one transaction that refuses a date not after the last
one, so neither a repeated hour, a late timer nor a restart can send a day twice.

What: pending reviews, unanswered mentions (the mentions store's), DMs and role changes
refused or left uncertain, late follow-backs and observe windows ending in the
next day, clean-up suggestions, counts since the last digest and a 7-day trend. Items
newer than the last digest are marked. The pages are bot.service.digest_pages'.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.policy import Policy
from bot.policy.model import EmptyDigest
from bot.service.actions import ActionFailed
from bot.service.clock import Clock
from bot.service.digest_pages import (
    CleanupReason,
    CleanupSuggestion,
    DecisionCount,
    DecisionTrend,
    DigestContent,
    LateFollowBack,
    MentionState,
    ObserveEnding,
    OwnerAction,
    OwnerActionKind,
    PendingReview,
    UnansweredMention,
    build_pages,
)
from bot.service.digest_schedule import DigestSchedule, DigestSlot, due_now, next_slot
from bot.service.events import DigestSent, EventBus
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import FIRED, TimerResult, TimerScheduler
from bot.store import ActionSpec, OutboxKind, OutboxRow, Store, TimerKind, TimerRow

log = logging.getLogger(__name__)

LOOK_AHEAD = timedelta(days=1)  # late follow-backs and observe windows "in the next day"
RECENT = timedelta(days=7)  # refused actions and early leavers shown this long
TREND_DAYS = 7

# Unanswered mentions posted in [since, until): the mentions store's, through
# `store_mentions`; without a source the digest has no mentions section.
MentionSource = Callable[[datetime, datetime], Awaitable[Sequence[UnansweredMention]]]


# Discord's markup for a user, role or channel: shown as a word, not as raw ids.
_MARKUP = re.compile(r"<(@[!&]?|#)\d+>")


def _readable(text: str) -> str:
    return _MARKUP.sub(lambda m: "#channel" if m[1] == "#" else "@someone", text)


def store_mentions(store: Store) -> MentionSource:
    """The mentions store's unanswered mentions (issue 11) as digest items."""

    async def unanswered(since: datetime, until: datetime) -> Sequence[UnansweredMention]:
        return [
            UnansweredMention(
                author=row.author_name,
                said_at=row.posted_at,
                excerpt=_readable(row.text or ""),
                state=MentionState.TOO_OLD if row.status == "too_old" else MentionState.NOTIFY,
                link=f"https://discord.com/channels/{row.guild_id}/{row.channel_id}/{row.message_id}",
            )
            for row in await store.unanswered_mentions(since, until)
        ]

    return unanswered


class PagePoster(Protocol):
    """Posts one stored page (Discord's JSON) to a channel or a user's DMs; the
    message id. Raises ActionFailed as the outbox's gateway does."""

    async def post_page(
        self, *, channel_id: int | None, user_id: int, body: dict[str, Any], nonce: str
    ) -> int: ...


class DigestReason(StrEnum):
    SCHEDULED = "scheduled"  # its timer fired
    MISSED = "missed"  # owed at start-up: fell due while the bot was down
    ON_DEMAND = "on_demand"  # /digest now: the schedule does not move


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    snapshot_id: int
    local_date: date
    reason: DigestReason
    pages: int  # 0: an empty day skipped, as the policy says
    queued: bool  # a message was queued for the owner or the digest channel


def _is_new(moment: datetime, last_at: datetime | None) -> bool:
    return last_at is not None and moment > last_at


def _day_start(day: date, schedule: DigestSchedule) -> datetime:
    return datetime.combine(day, time(0), tzinfo=schedule.zone).astimezone(UTC)


class DigestService:
    def __init__(
        self,
        store: Store,
        policies: PolicyHolder,
        clock: Clock,
        *,
        owner_id: int | None,
        channel_id: int | None = None,
        wake_outbox: Callable[[], None] = lambda: None,
        mentions: MentionSource | None = None,
        poster: PagePoster | None = None,
        events: EventBus | None = None,
    ) -> None:
        self._store = store
        self._policies = policies
        self._clock = clock
        self._owner_id = owner_id
        self._channel_id = channel_id
        self._wake_outbox = wake_outbox
        self._mentions = mentions
        self._poster = poster
        self._events = events or EventBus()
        self._schedule_timer: Callable[[datetime], None] = lambda due: None

    # --- when --------------------------------------------------------------------------

    def schedule(self) -> DigestSchedule:
        """The schedule of the policy in force (a reload applies at the next timer)."""
        return DigestSchedule.from_owner(self._policies.current.owner)

    def register_timers(self, timers: TimerScheduler) -> None:
        timers.register(TimerKind.DIGEST, self.timer_due)
        self._schedule_timer = timers.schedule

    async def start(self) -> DigestOutcome | None:
        """At start-up: the digest missed while down (once), then the next timer.

        The very first start sends nothing: today's slot, if already past, counts as
        done, and the first digest is the next one (a new install does not open with one).
        """
        state = await self._store.digest_state()
        missed = None
        if state.last_sent is None:
            now = self._clock.now()
            owed = due_now(self.schedule(), None, now)
            if owed is not None:
                await self._store.mark_digest_sent(owed.local_date, now)
        else:
            missed = await self.send_if_due(DigestReason.MISSED)
        await self.keep_timer()
        return missed

    async def policy_changed(self, before: Policy) -> None:
        """A valid policy edit: a new time, days or zone re-arm the digest timer at once."""
        if DigestSchedule.from_owner(before.owner) != self.schedule():
            slot = await self.keep_timer()
            log.info("digest schedule changed: the next digest at %s", slot.at)

    async def keep_timer(self) -> DigestSlot:
        """Exactly one digest timer, at the next slot after the last date sent."""
        now = self._clock.now()
        state = await self._store.digest_state()
        slot = next_slot(self.schedule(), state.last_sent, now)
        if await self._store.replace_digest_timer(slot.at, now):
            self._schedule_timer(slot.at)
        return slot

    async def timer_due(self, timer: TimerRow) -> TimerResult:
        outcome = await self.send_if_due(DigestReason.SCHEDULED)
        now = self._clock.now()
        if outcome is None:
            result = "nothing owed"
        else:
            result = f"digest for {outcome.local_date} ({outcome.pages} pages)"
        await self._store.finish_timer(timer.id, now, result)
        await self.keep_timer()
        return FIRED

    async def send_if_due(self, reason: DigestReason) -> DigestOutcome | None:
        """Send the digest owed now, if any (the schedule's `due_now`)."""
        now = self._clock.now()
        state = await self._store.digest_state()
        slot = due_now(self.schedule(), state.last_sent, now)
        if slot is None:
            return None
        return await self._send(now, slot.local_date, state.last_at, reason, scheduled=True)

    async def send_now(self) -> DigestOutcome:
        """`/digest now`: one digest at once; the daily schedule and its marks stay."""
        now = self._clock.now()
        state = await self._store.digest_state()
        local_date = now.astimezone(self.schedule().zone).date()
        outcome = await self._send(
            now, local_date, state.last_at, DigestReason.ON_DEMAND, scheduled=False
        )
        assert outcome is not None  # an on-demand digest is never refused
        return outcome

    # --- what ------------------------------------------------------------------------

    async def gather(
        self, now: datetime, last_at: datetime | None, local_date: date | None = None
    ) -> DigestContent:
        """Everything the digest shows at `now`; `last_at`: when the last one was built."""
        schedule = self.schedule()
        owner = self._policies.current.owner
        day = local_date or now.astimezone(schedule.zone).date()
        recent = now - RECENT
        store = self._store
        # Thousands at a time: no call per item beyond the one object each.
        newer = last_at or datetime.max.replace(tzinfo=UTC)
        reviews = [
            PendingReview(decision_id, member, rule, held, held > newer)
            for decision_id, member, rule, held in await store.digest_reviews()
        ]
        late = [
            LateFollowBack(t.member, t.due, t.rule, _is_new(t.created_at, last_at))
            for t in await store.digest_timers(TimerKind.LATER, now, now + LOOK_AHEAD)
        ]
        observing = [
            ObserveEnding(t.member, t.due, t.rule, _is_new(t.created_at, last_at))
            for t in await store.digest_timers(TimerKind.OBSERVE, now, now + LOOK_AHEAD)
        ]
        actions = [
            OwnerAction(
                _action_kind(a.kind, a.status),
                a.member,
                _action_detail(a.kind, a.code, a.error),
                a.at,
                _is_new(a.at, last_at),
            )
            for a in await store.digest_failed_actions(recent)
        ]
        cleanups = [
            CleanupSuggestion(
                c.member,
                CleanupReason.SILENT if c.silent else CleanupReason.LEFT_SOON,
                c.since,
                _is_new(c.since + owner.cleanup_after if c.silent else c.since, last_at),
            )
            for c in await store.cleanup_candidates(now - owner.cleanup_after, recent)
        ]
        mentions: Sequence[UnansweredMention] = ()
        if self._mentions is not None:
            # A week of them, each day until answered; the ones since the last digest new.
            mentions = [
                replace(m, new=_is_new(m.said_at, last_at))
                for m in await self._mentions(recent, now)
            ]
        counts = [
            DecisionCount(action, rule, n)
            for action, rule, n in await store.decision_counts(last_at or now - LOOK_AHEAD, now)
        ]
        return DigestContent(
            local_date=day,
            reviews=reviews,
            mentions=mentions,
            actions=actions,
            late=late,
            observing=observing,
            cleanups=cleanups,
            counts=counts,
            trend=await self._trend(schedule, now),
        )

    async def _trend(self, schedule: DigestSchedule, now: datetime) -> list[DecisionTrend]:
        today = now.astimezone(schedule.zone).date()
        days = [today - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
        ranges = [
            (_day_start(d, schedule), _day_start(d + timedelta(days=1), schedule)) for d in days
        ]
        per_day = await self._store.action_counts_by_range(ranges)
        actions = sorted({a for counts in per_day for a in counts})
        return [DecisionTrend(a, tuple(c.get(a, 0) for c in per_day)) for a in actions]

    # --- sending -----------------------------------------------------------------------

    async def _send(
        self,
        now: datetime,
        local_date: date,
        last_at: datetime | None,
        reason: DigestReason,
        *,
        scheduled: bool,
    ) -> DigestOutcome | None:
        content = await self.gather(now, last_at, local_date)
        when_empty: EmptyDigest = self._policies.current.owner.digest_when_empty
        snapshot_id = await self._store.reserve_digest_snapshot(local_date, reason, now)
        # Asked for by hand, an empty day still gets its one line.
        pages = build_pages(content, snapshot_id, when_empty if scheduled else EmptyDigest.ONE_LINE)
        messages = [page.message() for page in pages]
        send = self._delivery(snapshot_id, local_date, len(messages)) if messages else None
        stored = await self._store.complete_digest(
            snapshot_id, messages, now, sent_for=local_date if scheduled else None, send=send
        )
        if not stored:
            log.info("digest for %s was already sent", local_date)
            return None
        if send is not None:
            self._wake_outbox()
        outcome = DigestOutcome(snapshot_id, local_date, reason, len(messages), send is not None)
        log.info("digest %s for %s (%s): %d pages", snapshot_id, local_date, reason, len(messages))
        if self._events.listening:
            self._events.emit(
                DigestSent(
                    now, snapshot_id, local_date, str(reason), len(messages), _summary(content)
                )
            )
        return outcome

    def _delivery(
        self, snapshot_id: int, local_date: date, pages: int
    ) -> tuple[int, ActionSpec] | None:
        payload: dict[str, Any] = {
            "snapshot": snapshot_id,
            "page": 0,
            "text": f"digest for {local_date:%a %d %b}, {pages} page{'s' if pages != 1 else ''}",
        }
        if self._channel_id is not None:
            payload["channel_id"] = self._channel_id
        elif self._owner_id is None:
            log.warning("no owner and no digest channel: the digest is stored, not sent")
            return None
        return (self._owner_id or 0, ActionSpec(OutboxKind.DIGEST, payload))

    async def deliver(self, row: OutboxRow, nonce: str) -> dict[str, Any]:
        """The outbox's sender for DIGEST rows: post the stored page the row names."""
        if self._poster is None:
            raise ActionFailed(0, None, "no way to post a digest page")
        snapshot_id, page = int(row.payload["snapshot"]), int(row.payload.get("page", 0))
        body, _ = await self._store.digest_page(snapshot_id, page)
        if body is None:
            raise ActionFailed(404, None, f"digest {snapshot_id} page {page} is not stored")
        channel = row.payload.get("channel_id")
        message_id = await self._poster.post_page(
            channel_id=None if channel is None else int(channel),
            user_id=row.user_id,
            body=body,
            nonce=nonce,
        )
        return {"message_id": message_id}

    async def page(self, snapshot_id: int, page: int) -> tuple[dict[str, Any] | None, int]:
        """A stored page as a message body, and the snapshot's page count (buttons)."""
        return await self._store.digest_page(snapshot_id, page)


def _action_kind(kind: str, status: str) -> OwnerActionKind:
    if status == "uncertain":
        return OwnerActionKind.UNCERTAIN
    if kind in (OutboxKind.ADD_ROLE, OutboxKind.REMOVE_ROLE):
        return OwnerActionKind.ROLE_REFUSED
    return OwnerActionKind.DM_REFUSED


_MISSING_PERMISSIONS = 50013
_DMS_CLOSED = 50007


def _action_detail(kind: str, code: int | None, error: str) -> str:
    """The owner's words for a refusal they can do something about; else Discord's."""
    if code == _MISSING_PERMISSIONS and kind in (OutboxKind.ADD_ROLE, OutboxKind.REMOVE_ROLE):
        return "missing permissions: give the bot Manage Roles, its role above the follow-back role"
    if code == _DMS_CLOSED:
        return "their DMs are closed to the bot"
    return error


def _summary(content: DigestContent) -> str:
    parts = [
        (len(content.reviews), "pending review", "pending reviews"),
        (len(content.mentions), "unanswered mention", "unanswered mentions"),
        (len(content.actions), "action that needs you", "actions that need you"),
        (len(content.late), "late follow-back", "late follow-backs"),
        (len(content.observing), "observe window ending", "observe windows ending"),
        (len(content.cleanups), "clean-up suggestion", "clean-up suggestions"),
    ]
    said = [f"{n} {one if n == 1 else many}" for n, one, many in parts if n]
    return ", ".join(said) or "nothing needs you"
