"""The Gateway: sessions, intents, zlib-stream, heartbeats, READY, chunking, RESUME and replay."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from bot.standin.application import Application
from bot.standin.chunking import MemberRequests, guild_create_member_ids
from bot.standin.connection import ZSTD_AVAILABLE, Connection, Session, op_frame
from bot.standin.intents import MESSAGE_CONTENT, PRIVILEGED
from bot.standin.state import World

Json = dict[str, Any]

HEARTBEAT_INTERVAL_MS = 41250

OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE = 0, 1, 2, 3
OP_VOICE, OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS = 4, 6, 7, 8
OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 9, 10, 11


class Gateway:
    def __init__(self, world: World, app: Application) -> None:
        self.world = world
        self.app = app
        self.member_requests = MemberRequests(world)
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
                conn.push(op_frame(OP_RECONNECT, None))  # the client closes and resumes
                await conn.flush()
            elif resumable:
                await conn.close(4000, "Unknown error")  # discord.py resumes after 4000
            else:
                conn.push(op_frame(OP_INVALID_SESSION, False))
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
        if compression == "zstd-stream" and not ZSTD_AVAILABLE:
            compression = None
        conn = Connection(ws, compression)
        self.connections.add(conn)
        hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["standin"]}
        conn.push(op_frame(OP_HELLO, hello))
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
                        conn.push(op_frame(OP_HEARTBEAT_ACK, None))
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
                    self.member_requests.handle(session, data or {})
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
        app = self.app
        if not isinstance(data, dict) or not app.token_ok(str(data.get("token", ""))):
            await conn.close(4004, "Authentication failed.")
            return None
        intents = data.get("intents")
        if not isinstance(intents, int):
            await conn.close(4013, "Invalid intent(s).")
            return None
        enabled = {PRIVILEGED[name] for name in app.privileged_intents if name in PRIVILEGED}
        for bit in PRIVILEGED.values():
            if intents & bit and bit not in enabled:
                await conn.close(4014, "Disallowed intent(s).")
                return None
        threshold = data.get("large_threshold")
        threshold = min(max(threshold, 50), 250) if isinstance(threshold, int) else 50
        session = Session(secrets.token_hex(16), intents, data.get("shard"), threshold)
        session.conn = conn
        self.sessions[session.id] = session
        world = self.world
        ready: Json = {
            "v": 10,
            "user": world.user_json(app.bot_user_id),
            "guilds": [{"id": str(gid), "unavailable": True} for gid in world.guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": app.ws_url,
            "application": {"id": str(app.id), "flags": app.flags()},
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
            session.send_dispatch("GUILD_CREATE", json.dumps(self.guild_create(session, guild_id)))
        return session

    def guild_create(self, session: Session, guild_id: int) -> Json:
        """GUILD_CREATE as this session gets it (its member list depends on the intents)."""
        guild = self.world.guilds[guild_id]
        bot_id = self.app.bot_user_id
        member_ids = guild_create_member_ids(guild, session, bot_id)
        large = len(guild.members) > session.large_threshold
        return self.world.guild_create_json(guild_id, member_ids, bot_id, large=large)

    def _resume(self, conn: Connection, data: Json) -> Session | None:
        session = self.sessions.get(str((data or {}).get("session_id")))
        if session is not None and session.conn is None and session.expired():
            del self.sessions[session.id]
            session = None
        if session is None or not self.app.token_ok(str(data.get("token", ""))):
            conn.push(op_frame(OP_INVALID_SESSION, False))
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
