"""Timers live in the store; one APScheduler job waits for the earliest of them.

At start the job is rebuilt from the store, so a timer that fell due while the
bot was down runs at once. When the job runs it fires every due timer, then
re-arms itself for the next one: thousands of timers cost one job, not
thousands. The store's `fire_timer` makes each timer act at most once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.service.clock import Clock
from bot.store import Store, TimerRow

log = logging.getLogger(__name__)

JOB_ID = "followback-timers"


class TimerScheduler:
    def __init__(
        self, store: Store, clock: Clock, fire: Callable[[TimerRow], Awaitable[None]]
    ) -> None:
        self._store = store
        self._clock = clock
        self._fire = fire
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._armed_for: datetime | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def rebuild(self) -> int:
        """Arm the job from the store; returns how many timers are waiting."""
        waiting = len(await self._store.scheduled_timers())
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
        """Fire every timer due now, then wait for the next one."""
        fired = 0
        async with self._lock:
            self._armed_for = None
            while True:
                due = await self._store.due_timers(self._clock.now())
                if not due:
                    break
                for timer in due:
                    try:
                        await self._fire(timer)
                    except Exception:
                        # Recorded as failed, so one bad timer cannot stall the rest.
                        log.exception("timer %s (%s) failed", timer.id, timer.kind)
                        await self._store.cancel_timer(timer.id, self._clock.now(), "failed")
                    fired += 1
            self._arm(await self._store.next_timer_due())
        return fired
