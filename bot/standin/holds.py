"""Held answers: the stand-in carries a request out (the role is added, the message posted) and
records it, but its answer waits until released or a timeout. That is the in-doubt window of a
request whose answer never reached the client (it died, or the connection broke first), which a
test can then hit on purpose: hold the role PUT, wait until it is held, kill the bot."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.standin.faults import route_key, route_matches
from bot.standin.recorder import Recorded
from bot.standin.snowflake import now

DEFAULT_HOLD = 30.0  # seconds an answer waits at most when nobody releases it


@dataclass
class HoldRule:
    route: str  # see faults.route_key: a template, a concrete "METHOD /path", or "*"
    count: int
    timeout: float


@dataclass
class Held:
    """A request carried out whose answer is waiting."""

    recorded: Recorded  # as recorded when it was carried out (held=True)
    since: datetime
    timeout: float
    released: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.recorded.to_json(),
            "held_since": self.since.isoformat(),
            "timeout": self.timeout,
        }


class Holds:
    def __init__(self) -> None:
        self._rules: list[HoldRule] = []
        self._in_flight: list[Held] = []
        self._changed = asyncio.Event()

    def hold(self, route: str, count: int = 1, timeout: float = DEFAULT_HOLD) -> None:
        """Hold the answers of the next `count` requests of `route` that the stand-in carries
        out (2xx from its handler; answers from an injected fault, a 429 or an error are not
        held) for up to `timeout` seconds, or until `release()`."""
        self._rules.append(HoldRule(route_key(route), count, timeout))

    def take(self, route: str, concrete: str) -> float | None:
        """The hold's timeout if this request's answer is to be held."""
        for rule in self._rules:
            if rule.count > 0 and route_matches(rule.route, route, concrete):
                rule.count -= 1
                if rule.count == 0:
                    self._rules.remove(rule)
                return rule.timeout
        return None

    async def keep(self, recorded: Recorded, timeout: float) -> None:
        """Wait until released or `timeout` (the caller then sends the answer)."""
        held = Held(recorded, now(), timeout)
        self._in_flight.append(held)
        self._wake()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(held.released.wait(), timeout)
        finally:
            if held in self._in_flight:
                self._in_flight.remove(held)

    def held(self) -> list[Held]:
        """Answers waiting now, oldest first."""
        return list(self._in_flight)

    def release(self, count: int | None = None) -> int:
        """Send the oldest `count` held answers now (all when None); how many were released."""
        chosen = list(self._in_flight if count is None else self._in_flight[:count])
        for held in chosen:
            held.released.set()
            self._in_flight.remove(held)
        return len(chosen)

    async def wait_held(self, count: int = 1, timeout: float = 5.0) -> list[Held]:
        """Wait until `count` answers are held at once (then the requests have taken effect)."""

        async def waiter() -> list[Held]:
            while len(self._in_flight) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.held()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"waited {timeout}s for {count} held answers; {len(self._in_flight)} held"
            ) from None

    def clear(self) -> int:
        """Drop the rules and release every held answer; how many were released."""
        self._rules.clear()
        return self.release()

    def _wake(self) -> None:
        self._changed.set()
