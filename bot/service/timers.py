"""Timers live in the store; APScheduler jobs are rebuilt from them at every start.

A timer that fell due while the bot was down runs at once. The store's
`fire_timer` is the guard that makes each timer act at most once, so a job that
runs twice (a rebuild racing a live schedule) does nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.service.clock import Clock
from bot.store import Store, TimerRow

log = logging.getLogger(__name__)


class TimerScheduler:
    def __init__(
        self, store: Store, clock: Clock, fire: Callable[[TimerRow], Awaitable[None]]
    ) -> None:
        self._store = store
        self._clock = clock
        self._fire = fire
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def rebuild(self) -> int:
        """Schedule a job for every timer still waiting in the store."""
        timers = await self._store.scheduled_timers()
        for timer in timers:
            self.schedule(timer)
        return len(timers)

    def schedule(self, timer: TimerRow) -> None:
        now = self._clock.now()
        real_now = self._clock.real_time_for(now)
        run_at = self._clock.real_time_for(timer.due)
        if run_at < real_now:
            run_at = real_now + timedelta(milliseconds=10)  # overdue: run at once
        self.scheduler.add_job(
            self._run,
            trigger=DateTrigger(run_date=run_at),
            args=[timer],
            id=f"timer-{timer.id}",
            replace_existing=True,
            misfire_grace_time=None,  # late is fine; skipped is not
            coalesce=True,
        )

    async def _run(self, timer: TimerRow) -> None:
        try:
            await self._fire(timer)
        except Exception:
            # The timer stays scheduled in the store and is retried at the next start.
            log.exception("timer %s (%s) failed", timer.id, timer.kind)
