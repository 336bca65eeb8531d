"""Is a guild's member list complete? If not, ask Discord again, with a bounded backoff.

Without GUILD_PRESENCES, GUILD_CREATE lists only the bot; the rest comes in chunks after an
op 8 request. discord.py fires `on_ready` after 5 s even if the chunks never came, and ignores
RATE_LIMITED (Discord's answer to a second request for all members within 30 s). A partial
list must never be read as "everyone else left", so the catch-up waits here until the list is
complete (events/gateway-events.mdx "Guild Create", "Request Guild Members", "Rate Limited").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

log = logging.getLogger(__name__)

OP_REQUEST_GUILD_MEMBERS = 8
RATE_LIMIT_MARGIN = 0.1  # seconds past retry_after, so the next request is not early


class MemberList(Protocol):
    """What the waiting needs of a guild (discord.Guild has it)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def chunked(self) -> bool: ...
    @property
    def member_count(self) -> int | None: ...
    @property
    def members(self) -> Sequence[object]: ...


def is_complete(guild: MemberList) -> bool:
    """discord.py calls a guild chunked when its cache holds `member_count` members; both
    must hold, so a guild whose count is unknown is never taken for complete."""
    count = guild.member_count
    return guild.chunked and count is not None and len(guild.members) >= count


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds before asking again: first, first*factor, ... never more than cap."""

    first: float = 2.0
    factor: float = 2.0
    cap: float = 300.0

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.first * self.factor ** min(attempt, 64))


Ask = Callable[[Any], Awaitable[None]]


class MemberListWatch:
    """Waits, per guild, until the member list is complete, asking Discord again meanwhile.

    `ask` sends a request for all members of a guild. A RATE_LIMITED answer (fed to
    `note_rate_limited`) moves the next request to its `retry_after`; otherwise requests are
    spaced by `backoff`, and none is sent while chunks are still coming in.
    """

    def __init__(
        self,
        ask: Ask,
        *,
        backoff: Backoff = Backoff(),
        poll_interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ask = ask
        self.backoff = backoff
        self.poll_interval = poll_interval
        self._clock = clock
        self._retry_at: dict[int, float] = {}  # guild id -> earliest next request
        self.asked: dict[int, int] = {}  # guild id -> requests sent by the watch

    def note_rate_limited(self, payload: Mapping[str, Any]) -> None:
        """A RATE_LIMITED dispatch (discord.py has no handler for it)."""
        meta = payload.get("meta") or {}
        try:
            opcode = int(payload.get("opcode", -1))
            guild_id = int(meta["guild_id"])
            retry_after = float(payload.get("retry_after", 0.0))
        except (KeyError, TypeError, ValueError):
            log.debug("RATE_LIMITED without a guild: %r", payload)
            return
        if opcode != OP_REQUEST_GUILD_MEMBERS:
            return
        self._retry_at[guild_id] = self._clock() + max(retry_after, 0.0) + RATE_LIMIT_MARGIN
        log.info(
            "Discord rate-limited the member list request for guild %s: next in %.1f s",
            guild_id,
            retry_after,
        )

    def retry_at(self, guild_id: int) -> float | None:
        return self._retry_at.get(guild_id)

    async def wait_until_complete(self, guild: MemberList) -> None:
        """Return once the guild's member list is complete; never gives up (cancel to stop)."""
        if is_complete(guild):
            return
        log.warning(
            "member list of %s incomplete (%d of %s members known): its catch-up waits for "
            "the rest; live events are handled meanwhile",
            guild.name,
            len(guild.members),
            guild.member_count if guild.member_count is not None else "?",
        )
        attempt = 0
        while True:
            await self._until_next_request(guild, attempt)
            if is_complete(guild):
                break
            self._retry_at.pop(guild.id, None)
            self.asked[guild.id] = self.asked.get(guild.id, 0) + 1
            log.info("asking Discord again for the member list of %s", guild.name)
            try:
                await self._ask(guild)
            except (discord.DiscordException, OSError, AttributeError, RuntimeError) as exc:
                # Disconnected (no websocket) or closing: the next round tries again.
                log.info("member list request for %s not sent: %r", guild.name, exc)
            attempt += 1
        log.info(
            "member list of %s complete (%d members) after %d request(s)",
            guild.name,
            len(guild.members),
            self.asked.get(guild.id, 0),
        )

    async def _until_next_request(self, guild: MemberList, attempt: int) -> None:
        """Sleep until the next request is due, or the list is complete. Chunks still coming
        in push the request back (they may be the answer to the last one)."""
        known = len(guild.members)
        due = self._clock() + self.backoff.delay(attempt)
        while not is_complete(guild):
            now = self._clock()
            if len(guild.members) > known:
                known, due = len(guild.members), now + self.backoff.delay(attempt)
            limited = self._retry_at.get(guild.id)
            # After RATE_LIMITED, retry_after is exactly when Discord will answer again.
            next_request = due if limited is None else limited
            if now >= next_request:
                return
            await asyncio.sleep(min(self.poll_interval, next_request - now))


async def request_all_members(client: discord.Client, guild: discord.Guild) -> None:
    """Send op 8 for all members of `guild` so that discord.py caches the chunks.

    discord.py only caches chunks whose nonce belongs to one of its pending requests, and
    `Guild.chunk()` does not ask again while one is pending (one left over from a request
    answered by RATE_LIMITED, or whose chunks never came). So the pending request's nonce is
    reused; without one, discord.py's own request is made. There is no public API for this.
    """
    state = client._connection
    pending = state._chunk_requests.get(guild.id)
    if pending is not None:
        await state.chunker(guild.id, nonce=pending.nonce)
        return
    # Makes discord.py's request and sends op 8; completeness is read from the cache.
    future = await state.chunk_guild(guild, wait=False)
    future.cancel()


def hook_rate_limited(client: discord.Client, handler: Callable[[Any], None]) -> None:
    """Have RATE_LIMITED dispatches reach `handler` (discord.py 2.7 drops them as unknown).

    The gateway looks events up in the state's parser table; adding an entry there changes
    nothing in discord.py itself. A parser discord.py may add later still runs first.
    """
    parsers = client._connection.parsers
    existing = parsers.get("RATE_LIMITED")

    def parse_rate_limited(data: Any) -> None:
        if existing is not None:
            existing(data)
        handler(data)

    parsers["RATE_LIMITED"] = parse_rate_limited


__all__ = [
    "Backoff",
    "MemberList",
    "MemberListWatch",
    "hook_rate_limited",
    "is_complete",
    "request_all_members",
]
