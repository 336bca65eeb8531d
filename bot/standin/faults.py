"""Fault injection: 429/4xx/5xx answers and delays for the next N requests of a route.

A route is "METHOD /template" ("GET /guilds/{guild_id}/members/{user_id}": any member), a
concrete "METHOD /path" ("GET /guilds/1/members/2": that member only) or "*" (every request)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.standin.ratelimits import MESSAGES, Answer, too_many
from bot.standin.recorder import normalize_route

ANY = "*"


def route_key(route: str) -> str:
    return ANY if route == ANY else normalize_route(route)


def route_matches(key: str, route: str, concrete: str) -> bool:
    """Whether a fault's `key` covers a request of `route` (its template) at `concrete` path."""
    return key == ANY or key in (normalize_route(route), normalize_route(concrete))


@dataclass
class Fault:
    route: str  # normalized, or "*"
    status: int
    code: int | None
    count: int
    retry_after: float
    is_global: bool
    message: str | None = None


@dataclass
class Delay:
    route: str
    seconds: float
    count: int


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []

    def fail(
        self,
        route: str,
        status: int,
        *,
        code: int | None = None,
        count: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
        message: str | None = None,
    ) -> None:
        """Answer the next `count` requests of `route` ("METHOD /template" or "*") with `status`."""
        key = route_key(route)
        self._faults.append(Fault(key, status, code, count, retry_after, is_global, message))

    def delay(self, route: str, seconds: float, count: int = 1) -> None:
        self._delays.append(Delay(route_key(route), seconds, count))

    def clear(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def take_delay(self, route: str, concrete: str = "") -> float:
        for item in self._delays:
            if item.count > 0 and route_matches(item.route, route, concrete or route):
                item.count -= 1
                if item.count == 0:
                    self._delays.remove(item)
                return item.seconds
        return 0.0

    def take_fault(self, route: str, concrete: str = "") -> Answer | None:
        for item in self._faults:
            if item.count > 0 and route_matches(item.route, route, concrete or route):
                item.count -= 1
                if item.count == 0:
                    self._faults.remove(item)
                return self._answer(item)
        return None

    @staticmethod
    def _answer(fault: Fault) -> Answer:
        if fault.status == 429:
            scope = "global" if fault.is_global else "user"
            return too_many(fault.retry_after, is_global=fault.is_global, scope=scope)
        message = fault.message or MESSAGES.get(fault.status, f"{fault.status}: Error")
        return Answer(fault.status, {"message": message, "code": fault.code or 0}, {})
