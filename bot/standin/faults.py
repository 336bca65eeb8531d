"""Fault injection (429/4xx/5xx/delays for the next N requests of a route) and rate limits."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Answer:
    """What the middleware should answer instead of the real handler."""

    status: int
    body: dict[str, object]
    headers: dict[str, str]


_MESSAGES = {
    400: "400: Bad Request",
    401: "401: Unauthorized",
    403: "Missing Access",
    404: "404: Not Found",
    429: "You are being rate limited.",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
}


def too_many(
    retry_after: float, *, is_global: bool, scope: str, bucket: str | None = None, limit: int = 1
) -> Answer:
    headers = {
        # discord.py only retries a 429 carrying Via (otherwise it assumes a Cloudflare ban)
        "Via": "1.1 google",
        "Retry-After": str(max(1, round(retry_after + 0.4999))),
        "X-RateLimit-Scope": scope,
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        reset = time.time() + retry_after
        headers.update(
            {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{reset:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": bucket or "standin-fault",
            }
        )
    body: dict[str, object] = {
        "message": _MESSAGES[429],
        "retry_after": retry_after,
        "global": is_global,
    }
    if scope == "shared":
        body["code"] = 0
    return Answer(429, body, headers)


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
        message = fault.message or _MESSAGES.get(fault.status, f"{fault.status}: Error")
        return Answer(fault.status, {"message": message, "code": fault.code or 0}, {})


@dataclass
class _Window:
    started: float
    used: int


class RateLimits:
    """Fixed windows of `limit` requests per `per` seconds, per route (or shared bucket) and
    major parameter, like Discord's buckets."""

    def __init__(self) -> None:
        self._rules: dict[str, tuple[int, float, str | None]] = {}
        self._windows: dict[tuple[str, str], _Window] = {}

    def set(self, route: str | None, limit: int, per: float, *, bucket: str | None = None) -> None:
        """Routes set with the same `bucket` name share their windows (and bucket hash), as
        Discord's role PUT and DELETE do."""
        key = ANY if route is None or route == ANY else normalize_route(route)
        self._rules[key] = (limit, per, bucket)

    def clear(self) -> None:
        self._rules.clear()
        self._windows.clear()

    def check(self, route: str, major: str) -> tuple[Answer | None, dict[str, str]]:
        """Count one request; returns (429 answer or None, headers for a successful answer)."""
        key = normalize_route(route)
        rule = self._rules.get(key) or self._rules.get(ANY)
        if rule is None:
            return None, {}
        limit, per, shared = rule
        name = shared or key
        bucket = hashlib.sha1(name.encode()).hexdigest()[:16]
        clock = time.monotonic()
        window = self._windows.get((name, major))
        if window is None or clock - window.started >= per:
            window = self._windows[(name, major)] = _Window(clock, 0)
        reset_after = max(0.0, window.started + per - clock)
        if window.used >= limit:
            answer = too_many(
                reset_after, is_global=False, scope="user", bucket=bucket, limit=limit
            )
            return answer, {}
        window.used += 1
        return None, {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit - window.used),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
