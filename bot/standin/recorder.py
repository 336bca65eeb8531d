"""A record of every request the bot made, with query helpers and waiters."""

from __future__ import annotations

import asyncio
import bisect
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

_PARAM = re.compile(r"\{[^}]*\}")


def normalize_route(route: str) -> str:
    """'PUT /guilds/{guild_id}/x' and 'put /guilds/{g}/x' compare equal: names don't matter."""
    method, _, path = route.strip().partition(" ")
    return f"{method.upper()} {_PARAM.sub('{}', path.strip())}"


@dataclass(frozen=True)
class Recorded:
    method: str
    route: str  # template, e.g. "PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"
    path: str  # concrete path without the /api/v10 prefix
    json: Any
    status: int
    at: datetime
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    index: int = 0  # 1, 2, ... in the order recorded; never reused, not even after clear()
    held: bool = False  # carried out, its answer then held (holds.py)
    code: int | None = None  # the error answer's Discord code (10007, 50007, ...)
    deduped: bool = False  # a message whose nonce was answered with the earlier message

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "method": self.method,
            "route": self.route,
            "path": self.path,
            "json": self.json,
            "status": self.status,
            "at": self.at.isoformat(),
            "query": self.query,
            "held": self.held,
            "code": self.code,
            "deduped": self.deduped,
        }


class Recorder:
    def __init__(self) -> None:
        self._items: list[Recorded] = []
        self._changed = asyncio.Event()
        self._last_index = 0

    def add(self, item: Recorded) -> Recorded:
        """Store `item` under the next index; returns it with that index."""
        self._last_index += 1
        item = replace(item, index=self._last_index)
        self._items.append(item)
        self._changed.set()
        return item

    def clear(self) -> None:
        self._items.clear()

    def requests(
        self, method: str | None = None, route: str | None = None, since: int = 0
    ) -> list[Recorded]:
        """Requests in order; `route` may be a template ("POST /channels/{channel_id}/messages")
        or "METHOD /template" (then `method` may be None); `since`: only those with a greater
        index (the last index a poller saw)."""
        wanted = normalize_route(route) if route and " " in route.strip() else None
        out = []
        for item in self._items[self._first_after(since) :]:
            if method is not None and item.method != method.upper():
                continue
            if route is not None:
                if wanted is not None:
                    if normalize_route(item.route) != wanted:
                        continue
                elif normalize_route(f"X {item.route.partition(' ')[2]}") != normalize_route(
                    f"X {route}"
                ):
                    continue
            out.append(item)
        return out

    def _first_after(self, since: int) -> int:
        """Position of the first item with index > since (indexes grow along the list)."""
        return bisect.bisect_right(self._items, since, key=lambda item: item.index)

    def __len__(self) -> int:
        return len(self._items)

    async def wait_for(
        self,
        method: str | None,
        route: str | None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Recorded]:
        async def waiter() -> list[Recorded]:
            while True:
                found = self.requests(method, route)
                if len(found) >= count:
                    return found
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            got = len(self.requests(method, route))
            raise TimeoutError(
                f"waited {timeout}s for {count} x {method} {route}; got {got}"
            ) from None
