"""Pause and resume: while paused nothing leaves the outbox and timers wait; events and
decisions are still recorded. The state is stored, so it survives restarts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.service.clock import Clock
from bot.service.events import EventBus, OwnerActed
from bot.service.member_status import MemberStatus
from bot.service.policy_changes import PolicyAnnouncer
from bot.service.policy_holder import PolicyHolder
from bot.service.reviews import PAGE_SIZE, ReviewService
from bot.service.stats import StatsService
from bot.store import Store

log = logging.getLogger(__name__)

PAUSED_KEY = "paused"


class PauseControl:
    def __init__(self, store: Store, clock: Clock, events: EventBus | None = None) -> None:
        self._store = store
        self._clock = clock
        self._events = events or EventBus()
        self._paused = False
        self._on_resume: list[Callable[[], object]] = []

    async def load(self) -> bool:
        """Read the stored state (at start-up, before the outbox and timers run)."""
        self._paused = await self._store.get_setting(PAUSED_KEY) == "1"
        if self._paused:
            log.warning("followback is PAUSED: nothing is sent and timers wait (/resume)")
        return self._paused

    def paused(self) -> bool:
        return self._paused

    def on_resume(self, callback: Callable[[], object]) -> None:
        """Called after a resume: the outbox and the timers wake up."""
        self._on_resume.append(callback)

    async def pause(self, actor_id: int) -> bool:
        """False when already paused (nothing changes)."""
        if self._paused:
            return False
        await self._store.set_setting(
            PAUSED_KEY, "1", self._clock.now(), by=actor_id, action="pause"
        )
        self._paused = True
        self._events.emit(OwnerActed(self._clock.now(), actor_id, "pause"))
        return True

    async def resume(self, actor_id: int) -> bool:
        if not self._paused:
            return False
        await self._store.set_setting(
            PAUSED_KEY, "0", self._clock.now(), by=actor_id, action="resume"
        )
        self._paused = False
        self._events.emit(OwnerActed(self._clock.now(), actor_id, "resume"))
        for callback in self._on_resume:
            callback()
        return True


@dataclass(frozen=True, slots=True)
class OwnerTools:
    """What the owner's commands and buttons use (built by bot.app)."""

    reviews: ReviewService
    pause: PauseControl
    stats: StatsService
    announcer: PolicyAnnouncer
    policies: PolicyHolder
    store: Store
    clock: Clock
    guild_ids: tuple[int, ...]  # the watched guilds (empty: all)
    member_status: MemberStatus | None = None  # /followback status, for members
    page_size: int = PAGE_SIZE
