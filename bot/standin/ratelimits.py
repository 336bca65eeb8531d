"""Rate limits as topics/rate-limits.mdx describes them: fixed windows per route (or shared
bucket) and major parameter, X-RateLimit-* headers on every answer of a limited route, and 429
with `retry_after` / `global` (plus the `Via` header discord.py needs before it retries).

Default buckets, on unless turned off: role add/remove per guild (10 per 10 s, PUT and DELETE
sharing one bucket, as observed on Discord) and creating DMs, one bucket for the whole bot.
`scale` shortens their windows for tests; 1.0 is Discord's.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass

from bot.standin.httpkit import ApiError
from bot.standin.recorder import normalize_route

ANY = "*"
ROLE_ROUTES = (
    "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
    "DELETE /guilds/{guild_id}/members/{user_id}/roles/{role_id}",
)
CREATE_DM = "POST /users/@me/channels"
ROLE_LIMIT, ROLE_WINDOW = 10, 10.0  # observed on Discord: 10 per 10 s, PUT and DELETE shared
# Discord documents no bucket for creating DMs (only "your bot may be rate limited or blocked
# from opening new ones", resources/user.mdx); the stand-in gives it the role bucket's numbers
DM_LIMIT, DM_WINDOW = 10, 10.0
DISCORD_SCALE = 1.0


@dataclass(frozen=True)
class Answer:
    """What the middleware should answer instead of the real handler."""

    status: int
    body: dict[str, object]
    headers: dict[str, str]


MESSAGES = {
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
        "message": MESSAGES[429],
        "retry_after": retry_after,
        "global": is_global,
    }
    if scope == "shared":
        body["code"] = 0
    return Answer(429, body, headers)


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

    def use_default_buckets(self, scale: float = DISCORD_SCALE) -> None:
        """The default buckets with their windows times `scale` (0: none)."""
        if scale <= 0:
            return
        for route in ROLE_ROUTES:
            self.set(route, ROLE_LIMIT, ROLE_WINDOW * scale, bucket="member-roles")
        self.set(CREATE_DM, DM_LIMIT, DM_WINDOW * scale, bucket="create-dm")

    def clear(self) -> None:
        """No rate limits at all (the default buckets too)."""
        self._rules.clear()
        self._windows.clear()

    def rule(self, route: str) -> tuple[int, float, str | None] | None:
        """(limit, window, shared bucket name) for a route, if it is limited."""
        key = normalize_route(route)
        return self._rules.get(key) or self._rules.get(ANY)

    def check(self, route: str, major: str) -> tuple[Answer | None, dict[str, str]]:
        """Count one request; returns (429 answer or None, headers for a successful answer)."""
        key = normalize_route(route)
        rule = self.rule(route)
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


class DmOpens:
    """Opening new DM channels too fast: 403 with code 40003 "You are opening direct messages
    too fast" (topics/opcodes-and-status-codes.mdx; resources/user.mdx "Create DM": "If you
    open a significant amount of DMs too quickly, your bot may be rate limited or blocked from
    opening new ones"). Discord publishes no threshold, so it is off until `set()`."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.window = 600.0
        self.opened: deque[float] = deque()

    def set(self, limit: int | None, window: float = 600.0) -> None:
        """At most `limit` new DM channels per `window` seconds (None: no limit)."""
        self.limit, self.window = limit, window
        self.opened.clear()

    def take(self) -> None:
        """Count one new DM channel, or refuse it."""
        if self.limit is None:
            return
        clock = time.monotonic()
        while self.opened and clock - self.opened[0] >= self.window:
            self.opened.popleft()
        if len(self.opened) >= self.limit:
            raise ApiError(403, 40003, "You are opening direct messages too fast")
        self.opened.append(clock)
