"""The Gateway: sessions, intents, zlib-stream, heartbeats, READY, chunking, RESUME and replay."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from bot.standin.server import StandIn

try:  # zstd-stream only if the server side can compress it; else fall back to no compression
    import zstandard as _zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _zstd = None

log = logging.getLogger(__name__)

Json = dict[str, Any]

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGE_REACTIONS = 1 << 13
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = {
    "members": GUILD_MEMBERS,
    "presences": GUILD_PRESENCES,
    "message_content": MESSAGE_CONTENT,
}

HEARTBEAT_INTERVAL_MS = 41250
REPLAY_LIMIT = 200_000
RESUME_WINDOW = 180.0  # seconds a disconnected session can still be resumed
CHUNK_SIZE = 1000

OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE = 0, 1, 2, 3
OP_VOICE, OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS = 4, 6, 7, 8
OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 9, 10, 11


class Connection:
    """One WebSocket; writes are queued and flushed by one task so dispatching never awaits."""

    def __init__(self, ws: web.WebSocketResponse, compression: str | None) -> None:
        self.ws = ws
        self._zlib = zlib.compressobj() if compression == "zlib-stream" else None
        self._zstd = (
            _zstd.ZstdCompressor().compressobj() if compression == "zstd-stream" and _zstd else None
        )
        self._pending: list[str] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set when everything pushed has been written
        self._idle.set()
        self._closing = False
        self.task = asyncio.create_task(self._writer())

    def push(self, text: str) -> None:
        if not self._closing:
            self._pending.append(text)
            self._idle.clear()
            self._wake.set()

    async def flush(self) -> None:
        if not self._closing and not self.ws.closed:
            await self._idle.wait()

    async def _writer(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch, self._pending = self._pending, []
                for text in batch:
                    await self._send(text)
                    if self.ws.closed:
                        return
                if not self._pending:
                    self._idle.set()
        except (ConnectionError, RuntimeError) as exc:  # peer went away mid-write
            log.debug("gateway writer stopped: %s", exc)
        finally:
            self._idle.set()

    async def _send(self, text: str) -> None:
        if self._zlib is not None:
            data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        elif self._zstd is not None:
            data = self._zstd.compress(text.encode()) + self._zstd.flush(
                _zstd.COMPRESSOBJ_FLUSH_BLOCK
            )
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(text)

    async def close(self, code: int, message: str = "") -> None:
        # a client that stopped reading must not keep the stand-in from closing
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), 2.0)
        self._closing = True
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.ws.close(code=code, message=message.encode())


@dataclass
class Session:
    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=REPLAY_LIMIT))
    conn: Connection | None = None
    disconnected_at: float | None = None

    def expired(self) -> bool:
        gone = self.disconnected_at
        return gone is not None and time.monotonic() - gone > RESUME_WINDOW

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def send_dispatch(self, event: str, data_text: str) -> None:
        self.seq += 1
        text = f'{{"op":0,"t":"{event}","s":{self.seq},"d":{data_text}}}'
        self.buffer.append((self.seq, text))
        if self.conn is not None:
            self.conn.push(text)


def _op(op: int, d: Any) -> str:
    return json.dumps({"op": op, "d": d, "s": None, "t": None}, separators=(",", ":"))


class Gateway:
    def __init__(self, standin: StandIn) -> None:
        self.standin = standin
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        # knobs for tests: a short interval and no ACKs make discord.py see a zombie connection
        self.heartbeat_interval_ms = HEARTBEAT_INTERVAL_MS
        self.ack_heartbeats = True

    # -- dispatching --------------------------------------------------------------------------
    def dispatch(
        self,
        event: str,
        data: Json,
        *,
        intent: int | None = None,
        stripped: Json | None = None,
        only: Callable[[Session], bool] | None = None,
    ) -> None:
        """Send an event to every session that asked for it. `stripped` goes to sessions
        without MESSAGE_CONTENT (content/embeds/attachments/components removed)."""
        full_text: str | None = None
        stripped_text: str | None = None
        for session in list(self.sessions.values()):
            if session.conn is None and session.expired():
                del self.sessions[session.id]
                continue
            if intent is not None and not session.has(intent):
                continue
            if only is not None and not only(session):
                continue
            if stripped is not None and not session.has(MESSAGE_CONTENT):
                if stripped_text is None:
                    stripped_text = json.dumps(stripped, separators=(",", ":"))
                session.send_dispatch(event, stripped_text)
            else:
                if full_text is None:
                    full_text = json.dumps(data, separators=(",", ":"))
                session.send_dispatch(event, full_text)

    async def flush(self) -> None:
        for conn in list(self.connections):
            await conn.flush()

    async def drop(self, *, resumable: bool = True, reconnect_op: bool = False) -> None:
        for session in list(self.sessions.values()):
            conn = session.conn
            if conn is None:
                continue
            session.conn = None
            session.disconnected_at = time.monotonic()
            if resumable and reconnect_op:
                conn.push(_op(OP_RECONNECT, None))  # the client closes and resumes
                await conn.flush()
            elif resumable:
                await conn.close(4000, "Unknown error")  # discord.py resumes after 4000
            else:
                conn.push(_op(OP_INVALID_SESSION, False))
                self.sessions.pop(session.id, None)
                await conn.flush()

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.close(1001, "stand-in stopping")
        self.sessions.clear()

    # -- the WebSocket endpoint --------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        # Discord does not negotiate permessage-deflate; skipping it also keeps pushes fast.
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compression = request.query.get("compress")
        if compression == "zstd-stream" and _zstd is None:
            compression = None
        conn = Connection(ws, compression)
        self.connections.add(conn)
        hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["standin"]}
        conn.push(_op(OP_HELLO, hello))
        session: Session | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.BINARY:
                        await conn.close(4002, "Decode error.")
                    break
                try:
                    payload = json.loads(msg.data)
                    op = payload["op"]
                except (ValueError, KeyError, TypeError):
                    await conn.close(4002, "Decode error.")
                    break
                data = payload.get("d")
                if op == OP_HEARTBEAT:
                    if self.ack_heartbeats:
                        conn.push(_op(OP_HEARTBEAT_ACK, None))
                elif op == OP_IDENTIFY:
                    if session is not None:
                        await conn.close(4005, "Already authenticated.")
                        break
                    session = await self._identify(conn, data)
                    if session is None:
                        break
                elif op == OP_RESUME:
                    session = self._resume(conn, data)
                elif session is None:
                    await conn.close(4003, "Not authenticated.")
                    break
                elif op == OP_REQUEST_MEMBERS:
                    self._chunk(session, data or {})
                elif op in (OP_PRESENCE, OP_VOICE):
                    pass
                else:
                    await conn.close(4001, "Unknown opcode.")
                    break
        finally:
            self.connections.discard(conn)
            if session is not None and session.conn is conn:
                session.conn = None  # stays resumable for a while...
                session.disconnected_at = time.monotonic()
                if ws.close_code in (1000, 1001):
                    # ...unless the client closed cleanly: Discord then ends the session
                    self.sessions.pop(session.id, None)
            if not ws.closed:
                await conn.close(1000)
            else:
                conn.task.cancel()
        return ws

    async def _identify(self, conn: Connection, data: Json) -> Session | None:
        standin = self.standin
        if not isinstance(data, dict) or not standin.token_ok(str(data.get("token", ""))):
            await conn.close(4004, "Authentication failed.")
            return None
        intents = data.get("intents")
        if not isinstance(intents, int):
            await conn.close(4013, "Invalid intent(s).")
            return None
        enabled = {PRIVILEGED[name] for name in standin.privileged_intents if name in PRIVILEGED}
        for bit in PRIVILEGED.values():
            if intents & bit and bit not in enabled:
                await conn.close(4014, "Disallowed intent(s).")
                return None
        session = Session(secrets.token_hex(16), intents, data.get("shard"))
        session.conn = conn
        self.sessions[session.id] = session
        world = standin.world
        ready: Json = {
            "v": 10,
            "user": world.user_json(standin.bot_user_id),
            "guilds": [{"id": str(gid), "unavailable": True} for gid in world.guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": standin.ws_url,
            "application": {"id": str(standin.app_id), "flags": standin.application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["standin"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        session.send_dispatch("READY", json.dumps(ready, separators=(",", ":")))
        for guild_id in world.guilds:
            session.send_dispatch("GUILD_CREATE", json.dumps(self._guild_create(session, guild_id)))
        return session

    def _guild_create(self, session: Session, guild_id: int) -> Json:
        world = self.standin.world
        guild = world.guilds[guild_id]
        bot_id = self.standin.bot_user_id
        if session.has(GUILD_MEMBERS) and len(guild.members) <= 250:
            member_ids = list(guild.members)
        else:  # without the intent (or when large) only the bot itself is sent
            member_ids = [bot_id] if bot_id in guild.members else []
        return world.guild_create_json(guild_id, member_ids, bot_id)

    def _resume(self, conn: Connection, data: Json) -> Session | None:
        session = self.sessions.get(str((data or {}).get("session_id")))
        if session is not None and session.conn is None and session.expired():
            del self.sessions[session.id]
            session = None
        if session is None or not self.standin.token_ok(str(data.get("token", ""))):
            conn.push(_op(OP_INVALID_SESSION, False))
            return None
        if session.conn is not None and session.conn is not conn:
            old = session.conn
            asyncio.get_running_loop().create_task(old.close(4009, "Session superseded"))
        session.conn = conn
        session.disconnected_at = None
        last = data.get("seq") or 0
        for seq, text in session.buffer:
            if seq > last:
                conn.push(text)
        session.send_dispatch("RESUMED", '{"_trace":["standin"]}')
        return session

    def _chunk(self, session: Session, data: Json) -> None:
        world = self.standin.world
        try:
            guild = world.guilds[int(data["guild_id"])]
        except (KeyError, ValueError, TypeError):
            return
        bot_id = self.standin.bot_user_id
        user_ids = data.get("user_ids")
        query = data.get("query")
        limit = int(data.get("limit") or 0)
        found: list[int]
        not_found: list[str] = []
        if user_ids is not None:
            wanted = [int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])]
            found = [u for u in wanted if u in guild.members]
            not_found = [str(u) for u in wanted if u not in guild.members]
        elif not session.has(GUILD_MEMBERS):
            found = [bot_id] if bot_id in guild.members else []
        else:
            prefix = (query or "").lower()
            found = []
            for uid, member in guild.members.items():
                user = world.users[uid]
                names = [user.username, user.global_name or "", member.nick or ""]
                if not prefix or any(n.lower().startswith(prefix) for n in names):
                    found.append(uid)
            if limit:
                found = found[:limit]
        chunks = [found[i : i + CHUNK_SIZE] for i in range(0, len(found), CHUNK_SIZE)] or [[]]
        for index, ids in enumerate(chunks):
            payload: Json = {
                "guild_id": str(guild.id),
                "members": [world.member_json(guild.id, uid) for uid in ids],
                "chunk_index": index,
                "chunk_count": len(chunks),
            }
            if index == 0 and not_found:
                payload["not_found"] = not_found
            if data.get("presences"):
                payload["presences"] = []
            if data.get("nonce") is not None:
                payload["nonce"] = data["nonce"]
            session.send_dispatch("GUILD_MEMBERS_CHUNK", json.dumps(payload))
