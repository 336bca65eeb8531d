"""The follower pipeline: store the event, decide by the policy, queue the actions.

Every member event goes through one queue, handled in order by one worker, so a
member's join is always stored before their screening update or leave. Joins
that arrive together are stored and decided in batches (one transaction each).
Nothing here talks to Discord: role changes and DMs become outbox rows, late
follow-backs and observe windows become timers in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter
from typing import Any, Generic, TypeVar

from bot.service.clock import Clock
from bot.service.events import (
    CatchUpDone,
    EventBus,
    MemberLeft,
    MemberPending,
    RoleChangedByHand,
    TimerFired,
    TimerOutcome,
    member_label,
)
from bot.service.planning import Directory, Hooks, Plan, Planner
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import FIRED, Fired, NotYet, TimerResult, TimerScheduler
from bot.store import (
    FOLLOWER_EVENT_KINDS,
    ActionSpec,
    EventRow,
    JoinInput,
    ListedRow,
    MemberRow,
    Store,
    TimerKind,
    TimerRow,
    UserInfo,
)

log = logging.getLogger(__name__)

MAX_BATCH = 500
# Members handed to the store per batch in the start-up comparison (one transaction each).
RECONCILE_BATCH = 5000
S = TypeVar("S")
# A timer due before the client knows its guild (start-up) is tried again this much later.
GUILD_NOT_KNOWN_RETRY = timedelta(seconds=2)


class _Activity:
    """Activity counters of one batch of messages, per (guild id, user id)."""

    __slots__ = ("counts", "done")

    def __init__(self) -> None:
        self.counts: dict[tuple[int, int], dict[str, int]] = {}
        self.done: asyncio.Future[object]

    def add(self, guild_id: int, user_id: int, counters: dict[str, int]) -> None:
        counts = self.counts.setdefault((guild_id, user_id), {})
        for name, value in counters.items():
            counts[name] = counts.get(name, 0) + value


@dataclass(slots=True)
class _Work:
    join: JoinInput | None
    task: Callable[[], Awaitable[object]] | None
    done: asyncio.Future[object]  # the task's result (None for joins)


@dataclass(frozen=True, slots=True)
class PresentMember:
    """A member in the guild as the Discord layer sees it at start-up."""

    user: UserInfo
    joined_at: datetime | None
    pending: bool
    has_follow_back_role: bool | None  # None: the role is not in the guild
    is_follower: bool = True  # False in opt-in servers until they get the follower role


# A member in the guild at start-up, slim: (user id, joined_at, pending, has the follow-back
# role (None: no such role), is a follower, the source its UserInfo is made from if needed).
PresentRow = tuple[int, datetime | None, bool, bool | None, bool, S]


@dataclass(frozen=True, slots=True)
class MemberSnapshot(Generic[S]):
    """Who is in a guild now, as slim rows; `user_info` turns a row's source into the
    member's UserInfo, called only for the few members a decision is needed for."""

    rows: Sequence[PresentRow[S]]
    user_info: Callable[[S], UserInfo]

    @staticmethod
    def of(members: Sequence[PresentMember]) -> MemberSnapshot[UserInfo]:
        rows = [
            (m.user.user_id, m.joined_at, m.pending, m.has_follow_back_role, m.is_follower, m.user)
            for m in members
        ]
        return MemberSnapshot(rows, _same)


def _same(user: UserInfo) -> UserInfo:
    return user


class FollowerService:
    def __init__(
        self,
        store: Store,
        policies: PolicyHolder,
        clock: Clock,
        directory: Directory,
        *,
        bot_user_id: int,
        churn_window: timedelta,
        owner_id: int | None = None,
        hooks: Hooks | None = None,
        events: EventBus | None = None,
        catch_up_first: bool = False,
    ) -> None:
        self._store = store
        self._clock = clock
        self._churn_window = churn_window
        self.hooks = hooks or Hooks()
        self.events = events or EventBus()
        self._directory = directory
        self._planner = Planner(store, policies, directory, bot_user_id, self.events)
        # Neither the bot nor the owner is ever treated as a follower.
        self._not_followers = {bot_user_id} | ({owner_id} if owner_id is not None else set())
        self._queue: asyncio.Queue[_Work] = asyncio.Queue()
        # Messages seen since the last queued item, counted together (one write per batch).
        self._activity: _Activity | None = None
        # Until a guild's catch-up is done, the store may hold stays that ended while the bot
        # was down: nothing acts for a member's stay (timers, the outbox) before it.
        self._catch_up_first = catch_up_first
        self._caught_up: set[int] = set()
        self._worker: asyncio.Task[None] | None = None

    # --- the queue ----------------------------------------------------------------

    def caught_up(self, guild_id: int) -> bool:
        """Whether members' stays in this guild may be acted on: its catch-up is done (or
        this service was built not to wait for one)."""
        return not self._catch_up_first or guild_id in self._caught_up

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="followback-followers")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    def _submit(
        self, join: JoinInput | None = None, task: Callable[[], Awaitable[object]] | None = None
    ) -> asyncio.Future[object]:
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if task is not None:
            # Failures are logged by the worker; callers need not look at every future.
            done.add_done_callback(_retrieve)
        self._queue.put_nowait(_Work(join, task, done))
        self._activity = None  # later messages count after this item, in queue order
        return done

    async def flush(self) -> None:
        """Wait until everything submitted so far has been handled."""
        await self._submit(task=_nothing)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            start = 0
            while start < len(batch):
                end = start
                while end < len(batch) and batch[end].join is not None:
                    end += 1
                if end > start:
                    await self._settle(batch[start:end], self._joins(batch[start:end]))
                    start = end
                else:
                    work = batch[start]
                    assert work.task is not None
                    await self._settle([work], work.task())
                    start += 1

    @staticmethod
    async def _settle(works: list[_Work], job: Awaitable[object]) -> None:
        try:
            result = await job
        except Exception as exc:
            # Stored events not yet decided are decided at the next start.
            log.exception("follower pipeline step failed")
            for work in works:
                if work.done.done():
                    continue
                if work.join is not None:
                    work.done.set_result(None)  # joins are fire-and-forget; logged above
                else:
                    work.done.set_exception(exc)
            return
        for work in works:
            if not work.done.done():
                work.done.set_result(result if work.join is None else None)

    # --- events -------------------------------------------------------------------

    def member_joined(
        self,
        guild_id: int,
        user: UserInfo,
        joined_at: datetime,
        *,
        pending: bool = False,
        kind: str = "join",
    ) -> asyncio.Future[object]:
        """A follower arrived: stored first; decided unless screening is pending."""
        if user.user_id in self._not_followers:
            done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return self._submit(join=JoinInput(guild_id, user, joined_at, pending, kind))

    def screening_done(self, guild_id: int, user_id: int) -> asyncio.Future[object]:
        return self._submit(task=lambda: self._screening_done(guild_id, user_id))

    def member_left(self, guild_id: int, user_id: int) -> asyncio.Future[object]:
        return self._submit(task=lambda: self._member_left(guild_id, user_id))

    def follow_role_changed_by_hand(
        self, guild_id: int, user_id: int, has_role: bool
    ) -> asyncio.Future[object]:
        return self._submit(task=lambda: self._role_by_hand(guild_id, user_id, has_role))

    def message_seen(
        self, guild_id: int, author_id: int, **counters: int
    ) -> asyncio.Future[object]:
        """Count a message for its author. Messages that arrive together are added up in
        memory and written in one transaction, in their place in the queue."""
        activity = self._activity
        if activity is None:
            activity = _Activity()
            activity.done = self._submit(task=lambda: self._store_activity(activity))
            self._activity = activity  # set after _submit, which clears it
        activity.add(guild_id, author_id, counters)
        return activity.done

    async def _store_activity(self, activity: _Activity) -> None:
        if self._activity is activity:
            self._activity = None  # messages from now on start the next batch
        await self._store.bump_activities(
            [(guild_id, user_id, counts) for (guild_id, user_id), counts in activity.counts.items()]
        )

    def register_timers(self, timers: TimerScheduler) -> None:
        """Late follow-backs and observe windows are handled here, in the member's order."""
        timers.register(TimerKind.LATER, self.late_follow_back_due)
        timers.register(TimerKind.OBSERVE, self.observe_window_due)

    async def late_follow_back_due(self, timer: TimerRow) -> TimerResult:
        """A late follow-back fell due: follow back unless something changed."""
        return await self._submit_for(lambda: self._late_due(timer))

    async def observe_window_due(self, timer: TimerRow) -> TimerResult:
        """An observe window ended: decide again on what was seen."""
        return await self._submit_for(lambda: self._observe_due(timer))

    async def _submit_for(self, task: Callable[[], Awaitable[TimerResult]]) -> TimerResult:
        result = await self._submit(task=task)
        assert isinstance(result, Fired | NotYet)
        return result

    async def catch_up(
        self, guild_id: int, present: Sequence[PresentMember] | MemberSnapshot[Any]
    ) -> int:
        """Joins, leaves, screening and role edits that happened while the bot was offline.

        ``present`` is who is in the guild now. The comparison with the store runs as one
        step of the worker, queued at once: every live event handed over before the
        snapshot was taken is stored before it, every later one after it, so the snapshot
        and the store are compared at the same moment. Returns how many members were
        processed as joins.
        """
        snapshot = present if isinstance(present, MemberSnapshot) else MemberSnapshot.of(present)
        result = await self._submit(task=lambda: self._catch_up(guild_id, snapshot))
        assert isinstance(result, int)
        return result

    async def resume_unprocessed(self, guild_id: int | None = None) -> int:
        """Decide follower events stored before a crash but never decided.

        Only for guilds the client knows: deciding needs the guild (the follow-back role's
        id, members' roles). The others stay undecided until their catch-up resumes them.
        """
        count = 0
        for event in await self._store.unprocessed_events(FOLLOWER_EVENT_KINDS):
            if guild_id is not None and event.guild_id != guild_id:
                continue
            if not self._directory.guild_known(event.guild_id):
                continue
            member = await self._store.get_member(event.guild_id, event.user_id)
            if member is None or member.pending or not member.present or _stale(event, member):
                await self._store.mark_event_processed(event.id, self._clock.now())
                continue
            await self._decide_one(member, event.id, observed=False)
            count += 1
        return count

    async def _catch_up(self, guild_id: int, snapshot: MemberSnapshot[Any]) -> int:
        started = perf_counter()
        await self.resume_unprocessed(guild_id)
        rows = snapshot.rows
        # Compared in SQL, batch by batch: only members whose stored row differs come back.
        differing, absent = await self._store.compare_members(guild_id, self._batches(rows))
        stored = dict(differing)
        # The bot's own role changes not yet done: a role that differs from the store
        # because of them is no sign of the owner's hand.
        own_role_changes = await self._store.open_role_members(guild_id) if stored else set()
        now = self._clock.now()
        joins: list[JoinInput] = []
        leaves: list[tuple[int, datetime]] = []
        screened: list[int] = []
        by_hand: list[tuple[int, bool]] = []
        for user_id, joined_at, pending, has_role, _, source in rows:  # the guild's order
            if user_id not in stored:
                continue
            row = stored[user_id]
            if row is None or _new_stay(row, joined_at):
                joined_at = joined_at or now
                if row is not None and row.present:
                    # Left and came back while the bot was down: the leave was never seen,
                    # so it is dated no later than the new stay began.
                    leaves.append((user_id, min(joined_at, now)))
                user = snapshot.user_info(source)
                joins.append(JoinInput(guild_id, user, joined_at, pending, "catch_up"))
            elif not row.present:
                continue  # an earlier stay's member list: the leave stands
            elif row.pending and not pending:
                screened.append(user_id)
            elif has_role not in (None, row.followed) and user_id not in own_role_changes:
                # Never re-add what the owner took away: record it instead.
                by_hand.append((user_id, bool(has_role)))
        leaves.extend((user_id, now) for user_id in absent)
        await self._members_left(guild_id, leaves)
        for user_id in screened:
            await self._screening_done(guild_id, user_id)
        for user_id, has in by_hand:
            await self._role_by_hand(guild_id, user_id, has)
        for start in range(0, len(joins), MAX_BATCH):
            await self._store_joins(joins[start : start + MAX_BATCH])
        self._caught_up.add(guild_id)
        self.hooks.wake_outbox()  # rows held until the stays were known may go now
        if self.events.listening:
            self.events.emit(
                CatchUpDone(
                    self._clock.now(),
                    guild_id,
                    len(joins),
                    len(leaves),
                    len(screened),
                    len(by_hand),
                    members=len(rows),
                    elapsed_ms=round((perf_counter() - started) * 1000),
                )
            )
        return len(joins)

    def _batches(self, rows: Sequence[PresentRow[Any]]) -> Iterator[list[ListedRow]]:
        """The snapshot as the store compares it, a batch at a time (the bot and the owner
        are in the guild but never followers)."""
        never = self._not_followers
        for start in range(0, len(rows), RECONCILE_BATCH):
            yield [
                (user_id, joined_at, pending, has_role, follower and user_id not in never)
                for user_id, joined_at, pending, has_role, follower, _ in rows[
                    start : start + RECONCILE_BATCH
                ]
            ]

    async def _members_left(self, guild_id: int, leaves: list[tuple[int, datetime]]) -> None:
        """Leaves missed while the bot was down, recorded in one transaction, each as a live
        leave is (`_member_left`)."""
        now = self._clock.now()
        listening = self.events.listening
        done = await self._store.record_leaves(
            guild_id, leaves, now, self._churn_window, tell=listening
        )
        if not listening:
            return
        for user_id, member, waiting in done:
            if member is None:
                continue
            name = _label(member)
            self.events.emit(MemberLeft(now, guild_id, user_id, name))
            for kind in waiting:
                self.events.emit(TimerFired(now, guild_id, user_id, name, kind, TimerOutcome.LEFT))

    # --- handlers (run by the worker, in order) -------------------------------------

    async def _joins(self, works: list[_Work]) -> None:
        await self._store_joins([work.join for work in works if work.join is not None])

    async def _store_joins(self, joins: list[JoinInput]) -> None:
        now = self._clock.now()
        stored = await self._store.record_joins(joins, now)
        if self.events.listening:
            for _, row, fresh in stored:
                if fresh and row.pending:
                    self.events.emit(MemberPending(now, row.guild_id, row.user_id, _label(row)))
        ready = [(event_id, row) for event_id, row, fresh in stored if fresh and not row.pending]
        if ready:
            plan = await self._planner.plan_many(ready, observed=False, now=now)
            await self._record(plan, now)

    async def _decide_one(self, member: MemberRow, event_id: int, *, observed: bool) -> None:
        now = self._clock.now()
        plan = await self._planner.plan_many([(event_id, member)], observed=observed, now=now)
        await self._record(plan, now)

    async def _record(self, plan: Plan, now: datetime) -> None:
        items = plan.items
        await self._store.record_decisions(items, now)
        for event in plan.events:  # told once stored, never before
            self.events.emit(event)
        if any(item.actions for item in items):
            self.hooks.wake_outbox()
        for item in items:
            if item.timer is not None:
                self.hooks.schedule_timer(item.timer.due)

    async def _screening_done(self, guild_id: int, user_id: int) -> None:
        member = await self._store.get_member(guild_id, user_id)
        if member is None or not member.pending:
            return
        now = self._clock.now()
        event_id = await self._store.record_event(guild_id, user_id, "screened", {}, now)
        await self._store.record_screening_done(guild_id, user_id)
        member = await self._store.get_member(guild_id, user_id)
        assert member is not None
        await self._decide_one(member, event_id, observed=False)

    async def _member_left(
        self, guild_id: int, user_id: int, left_at: datetime | None = None
    ) -> None:
        """The stay ends: the store cancels its timers and unsent actions with the leave."""
        now = self._clock.now()
        left_at = left_at or now
        listening = self.events.listening
        # The leave cancels the stay's timers: read first, only to tell which (if anyone hears).
        waiting = (
            [t for t in await self._store.timers_for(guild_id, user_id) if t.status == "scheduled"]
            if listening
            else []
        )
        event_id = await self._store.record_event(guild_id, user_id, "leave", {}, left_at)
        member = await self._store.record_leave(guild_id, user_id, left_at, self._churn_window)
        # Nothing left to send to someone who is gone (rows of no stay included).
        await self._store.cancel_actions(guild_id, user_id, now, kinds=("add_role", "dm"))
        await self._store.mark_event_processed(event_id, now)
        if member is not None and listening:
            name = _label(member)
            self.events.emit(MemberLeft(now, guild_id, user_id, name))
            for timer in waiting:
                self.events.emit(
                    TimerFired(now, guild_id, user_id, name, timer.kind, TimerOutcome.LEFT)
                )

    async def _role_by_hand(self, guild_id: int, user_id: int, has_role: bool) -> None:
        """The owner gave or took the follow-back role themselves: record, never undo."""
        now = self._clock.now()
        kind = "role_added" if has_role else "role_removed"
        event_id = await self._store.record_event(guild_id, user_id, kind, {}, now)
        await self._store.set_followed(guild_id, user_id, has_role, now, by_owner=True)
        if not has_role:
            await self._store.cancel_actions(guild_id, user_id, now, kinds=("add_role",))
        await self._store.mark_event_processed(event_id, now)
        if self.events.listening:
            member = await self._store.get_member(guild_id, user_id)
            name = _label(member) if member else str(user_id)
            self.events.emit(RoleChangedByHand(now, guild_id, user_id, name, has_role))

    async def _late_due(self, timer: TimerRow) -> TimerResult:
        member = await self._still_here(timer)
        if isinstance(member, NotYet | Fired):
            return member
        actions, outcome = self._planner.late_follow_back(member)
        if await self._fire(timer, member, outcome, actions) and actions:
            self.hooks.wake_outbox()
        return FIRED

    async def _observe_due(self, timer: TimerRow) -> TimerResult:
        member = await self._still_here(timer)
        if isinstance(member, NotYet | Fired):
            return member
        latest = await self._store.latest_decision(timer.guild_id, timer.user_id)
        if latest is not None and latest.observed and latest.decided_at >= timer.created_at:
            await self._fire(timer, member, TimerOutcome.ALREADY_DECIDED)
            return FIRED
        now = self._clock.now()
        event_id = await self._store.record_event(
            timer.guild_id, timer.user_id, "timer", {"timer_id": timer.id}, now
        )
        await self._decide_one(member, event_id, observed=True)
        await self._fire(timer, member, TimerOutcome.DECIDED_AGAIN)
        return FIRED

    async def _still_here(self, timer: TimerRow) -> MemberRow | NotYet | Fired:
        """The member a timer is for, still in the stay it was set in; else the timer is
        settled (FIRED) or, while the guild is not known or caught up yet, put off (NotYet)."""
        if not self._directory.guild_known(timer.guild_id) or not self.caught_up(timer.guild_id):
            return NotYet(GUILD_NOT_KNOWN_RETRY)
        member = await self._store.get_member(timer.guild_id, timer.user_id)
        if member is None or not member.present:
            await self._fire(timer, member, TimerOutcome.LEFT)
            return FIRED
        if timer.stay is not None and timer.stay != member.stay:
            # Set during an earlier stay; the rejoin was decided on its own.
            await self._fire(timer, member, TimerOutcome.EARLIER_STAY)
            return FIRED
        return member

    async def _fire(
        self,
        timer: TimerRow,
        member: MemberRow | None,
        outcome: TimerOutcome,
        actions: Sequence[ActionSpec] = (),
    ) -> bool:
        now = self._clock.now()
        fired = await self._store.fire_timer(timer.id, now, outcome, actions=actions)
        if fired and self.events.listening:
            name = _label(member) if member else str(timer.user_id)
            self.events.emit(
                TimerFired(now, timer.guild_id, timer.user_id, name, timer.kind, outcome)
            )
        return fired


def _new_stay(row: MemberRow, joined_at: datetime | None) -> bool:
    """Whether a member in the guild with this ``joined_at`` is in a stay the store has not
    seen: a newer join than the stored one is a new stay, even if no leave was seen."""
    if joined_at is None:
        return False
    if row.joined_at is not None and joined_at > row.joined_at:
        return True
    # Stored as gone: back if they joined after the recorded leave.
    return not row.present and (row.left_at is None or joined_at > row.left_at)


def _stale(event: EventRow, member: MemberRow) -> bool:
    """A stored join of an earlier stay than the member's current one."""
    joined = event.payload.get("joined_at") if event.kind != "screened" else None
    return (
        isinstance(joined, str)
        and member.joined_at is not None
        and (datetime.fromisoformat(joined) < member.joined_at)
    )


def _label(member: MemberRow) -> str:
    return member_label(member.display_name, member.username)


async def _nothing() -> None:
    return None


def _retrieve(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()
