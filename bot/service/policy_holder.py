"""Holds the policy in force. A broken edit is reported and the old policy stays."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.policy import Policy, PolicyError, load_policy
from bot.service.events import EventBus, PolicyBroken, PolicyReloaded

log = logging.getLogger(__name__)


class PolicyHolder:
    def __init__(self, path: Path, policy: Policy, events: EventBus | None = None) -> None:
        self.path = path
        self.current = policy
        self._events = events or EventBus()
        self._mtime = self._stat()
        self._watch: asyncio.Task[None] | None = None

    @classmethod
    def load(cls, path: Path, events: EventBus | None = None) -> PolicyHolder:
        """Load at start-up; a broken file here is fatal (PolicyError propagates)."""
        return cls(path, load_policy(path), events)

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def reload(self) -> PolicyError | None:
        """Reload from disk; on error keep the policy in force and return the error."""
        self._mtime = self._stat()
        try:
            policy = load_policy(self.path)
        except PolicyError as exc:
            log.error("policy not reloaded, the previous one stays in force:\n%s", exc)
            self._events.emit(PolicyBroken(self.path, str(exc), self.current.version))
            return exc
        changed = policy.version != self.current.version
        self.current = policy
        if changed:
            self._events.emit(PolicyReloaded(self.path, policy.version))
        return None

    def start_watching(
        self,
        interval: float = 2.0,
        on_error: Callable[[PolicyError], Awaitable[None]] | None = None,
        on_change: Callable[[Policy], Awaitable[None]] | None = None,
    ) -> None:
        """Poll the file's mtime: edits take effect without a restart. `on_change` gets the
        policy that was in force before a valid edit."""

        async def watch() -> None:
            while True:
                await asyncio.sleep(interval)
                if self._stat() != self._mtime:
                    before = self.current
                    error = self.reload()
                    if error is not None and on_error is not None:
                        await on_error(error)
                    elif error is None and on_change is not None:
                        await on_change(before)

        self._watch = asyncio.create_task(watch(), name="followback-policy-watch")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
