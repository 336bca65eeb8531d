"""Member lists as Discord sends them (events/gateway-events.mdx "Guild Create", "Request Guild
Members", "Guild Members Chunk", "Rate Limited"; the change-log's "Introducing Rate Limit When
Requesting All Guild Members").

GUILD_CREATE carries only the bot (and members in voice, of which the stand-in has none) unless
the session has GUILD_PRESENCES; the rest comes in answer to op 8 as chunks of up to 1,000. A
second request for all members of a guild within 30 s gets a RATE_LIMITED dispatch instead.
Tests can slow chunks, drop some, or withhold them until `release()`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from bot.standin.connection import Session
from bot.standin.intents import GUILD_MEMBERS, GUILD_PRESENCES
from bot.standin.state import Guild, Json, World

CHUNK_SIZE = 1000
QUERY_LIMIT = 100  # "Requesting a prefix ... / user_ids ... returning 100 members" at most
NONCE_MAX_BYTES = 32
ALL_MEMBERS_WINDOW = 30.0  # "1 request per guild per bot every 30 seconds"
HUGE_GUILD = 75_000  # above it GUILD_CREATE has no member list even with GUILD_PRESENCES
OP_REQUEST_MEMBERS = 8


def guild_create_member_ids(guild: Guild, session: Session, bot_id: int) -> list[int]:
    """Who GUILD_CREATE lists: without GUILD_PRESENCES (or over 75k members) only the bot and
    members in voice; with it, everyone up to `large_threshold`, and above it only members who
    are online, have a role or a nickname, or are in voice."""
    own = [bot_id] if bot_id in guild.members else []
    if not session.has(GUILD_PRESENCES) or len(guild.members) > HUGE_GUILD:
        return own
    if len(guild.members) <= session.large_threshold:
        return list(guild.members)
    return [uid for uid, m in guild.members.items() if uid == bot_id or m.roles or m.nick]


@dataclass
class ChunkFaults:
    """Persistent until cleared: every answer to op 8 is affected."""

    delay: float = 0.0  # seconds before each chunk goes out
    dropped: set[int] = field(default_factory=set)  # chunk indexes that never go out
    withheld: bool = False  # answers wait for release()


@dataclass(frozen=True)
class MemberRequest:
    """One op 8 the stand-in received and how it answered ("chunks", "withheld" or
    "rate_limited")."""

    guild_id: int
    nonce: str | None
    all_members: bool
    answer: str
    chunks: int


class MemberRequests:
    """Answers op 8 REQUEST_GUILD_MEMBERS for every session."""

    def __init__(self, world: World, window: float = ALL_MEMBERS_WINDOW) -> None:
        self.world = world
        self.window = window  # 0 turns the rate limit off
        self.faults = ChunkFaults()
        self.received: list[MemberRequest] = []
        self.rate_limited: list[Json] = []  # RATE_LIMITED payloads sent
        self.last_all_members: dict[int, float] = {}  # guild id -> monotonic time
        self.held: list[tuple[Session, list[Json]]] = []
        self.tasks: set[asyncio.Task[None]] = set()

    # -- faults (driver) ------------------------------------------------------------------------
    def slow(self, seconds: float) -> None:
        self.faults.delay = seconds

    def drop(self, *chunk_indexes: int) -> None:
        self.faults.dropped.update(chunk_indexes)

    def withhold(self) -> None:
        self.faults.withheld = True

    def release(self) -> int:
        """Send every withheld answer now; returns how many chunks went out."""
        self.faults.withheld = False
        held, self.held = self.held, []
        sent = 0
        for session, payloads in held:
            for payload in payloads:
                send_chunk(session, payload)
                sent += 1
        return sent

    def set_window(self, seconds: float) -> float:
        """Seconds within which a repeat request for all members gets RATE_LIMITED (0: never);
        returns the previous setting. Requests already seen keep counting against the new one."""
        if seconds < 0:
            raise ValueError("member_request_window must be 0 or more seconds")
        previous, self.window = self.window, float(seconds)
        return previous

    def clear(self) -> None:
        """No more faults, and the rate-limit windows forgotten."""
        self.faults = ChunkFaults()
        self.last_all_members.clear()

    # -- op 8 -----------------------------------------------------------------------------------
    def handle(self, session: Session, data: Json) -> None:
        try:
            guild = self.world.guilds[int(data["guild_id"])]
        except (KeyError, ValueError, TypeError):
            return
        nonce = valid_nonce(data.get("nonce"))
        user_ids = data.get("user_ids")
        query = data.get("query")
        limit = int(data.get("limit") or 0)
        all_members = user_ids is None and query == "" and limit == 0
        if all_members and self._limited(session, guild.id, nonce):
            self.received.append(MemberRequest(guild.id, nonce, True, "rate_limited", 0))
            return
        found, not_found = self._select(session, guild, user_ids, query or "", limit)
        with_presences = bool(data.get("presences")) and session.has(GUILD_PRESENCES)
        payloads = self._chunks(guild.id, found, not_found, nonce, with_presences)
        answer = "withheld" if self.faults.withheld else "chunks"
        self.received.append(MemberRequest(guild.id, nonce, all_members, answer, len(payloads)))
        payloads = [p for p in payloads if p["chunk_index"] not in self.faults.dropped]
        if self.faults.withheld:
            self.held.append((session, payloads))
        elif self.faults.delay > 0:
            task = asyncio.get_running_loop().create_task(self._slowly(session, payloads))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        else:
            for payload in payloads:
                send_chunk(session, payload)

    def _limited(self, session: Session, guild_id: int, nonce: str | None) -> bool:
        clock = time.monotonic()
        last = self.last_all_members.get(guild_id)
        if self.window > 0 and last is not None and clock - last < self.window:
            payload: Json = {
                "opcode": OP_REQUEST_MEMBERS,
                "retry_after": round(last + self.window - clock, 3),
                "meta": {"guild_id": str(guild_id)},
            }
            if nonce is not None:
                payload["meta"]["nonce"] = nonce
            self.rate_limited.append(payload)
            session.send_dispatch("RATE_LIMITED", json.dumps(payload))
            return True
        self.last_all_members[guild_id] = clock
        return False

    def _select(
        self, session: Session, guild: Guild, user_ids: Any, query: str, limit: int
    ) -> tuple[list[int], list[str]]:
        if user_ids is not None:
            wanted = [int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])]
            wanted = wanted[:QUERY_LIMIT]
            found = [u for u in wanted if u in guild.members]
            return found, [str(u) for u in wanted if u not in guild.members]
        if not query and not session.has(GUILD_MEMBERS):
            # the whole list needs GUILD_MEMBERS; without it only the bot itself is known
            bot_id = self.world.bot_user_id
            return ([bot_id] if bot_id in guild.members else []), []
        if query:
            limit = min(limit or QUERY_LIMIT, QUERY_LIMIT)
        prefix = query.lower()
        found = []
        for uid, member in guild.members.items():
            user = self.world.users[uid]
            names = (user.username, user.global_name or "", member.nick or "")
            if not prefix or any(n.lower().startswith(prefix) for n in names):
                found.append(uid)
                if limit and len(found) >= limit:
                    break
        return found, []

    def _chunks(
        self,
        guild_id: int,
        found: list[int],
        not_found: list[str],
        nonce: str | None,
        with_presences: bool,
    ) -> list[Json]:
        groups = [found[i : i + CHUNK_SIZE] for i in range(0, len(found), CHUNK_SIZE)] or [[]]
        payloads = []
        for index, ids in enumerate(groups):
            payload: Json = {
                "guild_id": str(guild_id),
                "members": [self.world.member_json(guild_id, uid) for uid in ids],
                "chunk_index": index,
                "chunk_count": len(groups),
            }
            if index == 0 and not_found:
                payload["not_found"] = not_found
            if with_presences:
                payload["presences"] = []
            if nonce is not None:
                payload["nonce"] = nonce
            payloads.append(payload)
        return payloads

    async def _slowly(self, session: Session, payloads: list[Json]) -> None:
        for payload in payloads:
            await asyncio.sleep(self.faults.delay)
            send_chunk(session, payload)


def send_chunk(session: Session, payload: Json) -> None:
    session.send_dispatch("GUILD_MEMBERS_CHUNK", json.dumps(payload, separators=(",", ":")))


def valid_nonce(nonce: Any) -> str | None:
    """ "If you send an invalid nonce it will be ignored": at most 32 bytes."""
    if isinstance(nonce, str) and len(nonce.encode()) <= NONCE_MAX_BYTES:
        return nonce
    return None
