"""Everything that falls due, in one place: timers live in the store, one APScheduler job
waits for the earliest of them, and a registry hands each to the handler of its kind.

At start the job is rebuilt from the store, so a timer that fell due while the bot was
down runs at once. When the job runs it fires every due timer, then re-arms itself for
the next one: thousands of timers cost one job, not thousands. Each kind has one
handler (`register(TimerKind.LATER, handler)`), as RoboDanny dispatches
`{event}_timer_complete`; the handler records its outcome through the store, whose
`fire_timer` makes each timer act at most once, and says `FIRED`, or `NotYet(...)` when
it cannot act yet (the guild is not known yet): such a timer stays due and is tried
again later, never consumed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.service.clock import Clock
from bot.store import Store, TimerKind, TimerRow

log = logging.getLogger(__name__)

JOB_ID = "followback-timers"


@dataclass(frozen=True, slots=True)
class Fired:
    """The handler settled the timer (its outcome is in the store)."""


@dataclass(frozen=True, slots=True)
class NotYet:
    """The handler cannot act yet: the timer stays due and is tried again after this."""

    retry_after: timedelta = timedelta(seconds=5)


FIRED = Fired()
PAUSED = NotYet(timedelta(minutes=1))  # while paused a due timer waits (re-armed on resume)
TimerResult = Fired | NotYet
TimerHandler = Callable[[TimerRow], Awaitable[TimerResult]]


class TimerScheduler:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._handlers: dict[TimerKind, TimerHandler] = {}
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._armed_for: datetime | None = None
        self._lock = asyncio.Lock()
        self.paused: Callable[[], bool] = lambda: False  # /pause: timers wait

    def register(self, kind: TimerKind, handler: TimerHandler) -> None:
        """The one handler for timers of this kind (a second one is a wiring mistake)."""
        if kind in self._handlers:
            raise ValueError(f"timers of kind {kind!r} already have a handler")
        self._handlers[kind] = handler

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def rebuild(self) -> int:
        """Arm the job from the store; returns how many timers are waiting."""
        waiting = await self._store.count_scheduled_timers()
        self._arm(await self._store.next_timer_due())
        return waiting

    def schedule(self, due: datetime) -> None:
        """A new timer: re-arm only if it is due before the one the job waits for."""
        if self._armed_for is None or due < self._armed_for:
            self._arm(due)

    def _arm(self, due: datetime | None) -> None:
        self._armed_for = due
        if due is None:
            if self.scheduler.get_job(JOB_ID) is not None:
                self.scheduler.remove_job(JOB_ID)
            return
        real_now = self._clock.real_time_for(self._clock.now())
        run_at = max(self._clock.real_time_for(due), real_now + timedelta(milliseconds=5))
        self.scheduler.add_job(
            self.fire_due,
            trigger=DateTrigger(run_date=run_at),
            id=JOB_ID,
            replace_existing=True,
            misfire_grace_time=None,  # late is fine; skipped is not
            coalesce=True,
        )

    async def fire_due(self) -> int:
        """Hand every timer due now to its handler, then wait for the next one.

        Returns how many were handed over (a timer put off with NotYet counts too).
        """
        handed = 0
        async with self._lock:
            self._armed_for = None
            while True:
                due = await self._store.due_timers(self._clock.now())
                if not due:
                    break
                for timer in due:
                    await self._dispatch(timer)
                    handed += 1
            self._arm(await self._store.next_timer_due())
        return handed

    async def _dispatch(self, timer: TimerRow) -> None:
        handler = self._handlers.get(TimerKind(timer.kind))
        if handler is None:
            log.error("timer %s: nothing handles timers of kind %r", timer.id, timer.kind)
            await self._store.cancel_timer(timer.id, self._clock.now(), "failed: no handler")
            return
        try:
            result = PAUSED if self.paused() else await handler(timer)
        except Exception:
            # Recorded as failed, so one bad timer cannot stall the rest.
            log.exception("timer %s (%s) failed", timer.id, timer.kind)
            await self._store.cancel_timer(timer.id, self._clock.now(), "failed")
            return
        if isinstance(result, NotYet):
            # Still scheduled: due again a little later, so the loop above moves on.
            until = self._clock.now() + result.retry_after
            await self._store.postpone_timer(timer.id, until)
            log.info("timer %s (%s) cannot act yet; again at %s", timer.id, timer.kind, until)
