"""Fault injection: 429/4xx/5xx answers and delays for the next N requests of a route."""

from __future__ import annotations

from dataclasses import dataclass

from bot.standin.ratelimits import MESSAGES, Answer, too_many
from bot.standin.recorder import normalize_route

ANY = "*"


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
        key = ANY if route == ANY else normalize_route(route)
        self._faults.append(Fault(key, status, code, count, retry_after, is_global, message))

    def delay(self, route: str, seconds: float, count: int = 1) -> None:
        key = ANY if route == ANY else normalize_route(route)
        self._delays.append(Delay(key, seconds, count))

    def clear(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def take_delay(self, route: str) -> float:
        key = normalize_route(route)
        for item in self._delays:
            if item.route in (key, ANY) and item.count > 0:
                item.count -= 1
                if item.count == 0:
                    self._delays.remove(item)
                return item.seconds
        return 0.0

    def take_fault(self, route: str) -> Answer | None:
        key = normalize_route(route)
        for item in self._faults:
            if item.route in (key, ANY) and item.count > 0:
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
