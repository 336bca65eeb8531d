"""StandIn: the server plus the in-process driver that tests and the demo use."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
from datetime import datetime

from aiohttp import web

from bot.standin.commands import CommandCreates
from bot.standin.connection import Session
from bot.standin.content import without_content
from bot.standin.faults import Faults
from bot.standin.gateway import Gateway
from bot.standin.intents import (
    DIRECT_MESSAGE_REACTIONS,
    DIRECT_MESSAGES,
    GUILD_MEMBERS,
    GUILD_MESSAGE_REACTIONS,
    GUILD_MESSAGES,
    GUILDS,
)
from bot.standin.interactions import RESPONSE_WINDOW, Interaction
from bot.standin.ratelimits import DISCORD_SCALE, DmOpens, RateLimits
from bot.standin.recorder import Recorded, Recorder
from bot.standin.rest import build_api
from bot.standin.state import (
    BOT_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    SPAMMER_FLAG,
    Channel,
    Guild,
    Json,
    Member,
    Message,
    Role,
    User,
    World,
    emoji_json,
)
from bot.standin.world_driver import DriverMixin

DEFAULT_PRIVILEGED = frozenset({"members", "message_content"})
EPHEMERAL = 1 << 6


class StandIn(DriverMixin):
    """A local Discord (REST v10 + Gateway) for the real discord.py client."""

    def __init__(
        self,
        token: str | None = None,
        privileged_intents: set[str] | frozenset[str] | None = None,
        *,
        member_request_window: float = 0.0,
        rate_limit_scale: float = DISCORD_SCALE,
    ) -> None:
        """`member_request_window`: seconds within which a second op 8 for all members of a
        guild gets RATE_LIMITED. Discord's is 30 s (ALL_MEMBERS_WINDOW; `followback standin`
        uses it); 0 by default because the demo and tests restart the bot seconds apart to stand
        for restarts far apart, and the bot cannot yet wait out the limit (issue 9 item 2).

        `rate_limit_scale`: the default buckets' windows (roles per guild, creating DMs) times
        this; 1.0 is Discord's, 0 turns them off."""
        self.token = token
        self.privileged_intents: set[str] = set(
            DEFAULT_PRIVILEGED if privileged_intents is None else privileged_intents
        )
        self.world = World()
        self.recorder = Recorder()
        self.faults = Faults()
        self.rate_limits = RateLimits()
        self.rate_limits.use_default_buckets(rate_limit_scale)
        self.dm_opens = DmOpens()  # 403 40003 when opening DMs too fast; off until set()
        self.command_creates = CommandCreates()  # 200 per day per guild; .set() shortens it
        self.gateway = Gateway(self)
        self.member_requests = self.gateway.member_requests  # op 8: chunks, RATE_LIMITED, faults
        self.member_requests.window = member_request_window
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        self.interaction_window = RESPONSE_WINDOW
        self.host = "127.0.0.1"
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.app_owner_id = self.add_user("owner", global_name="The Owner")
        # a modern application's id equals its bot user's id
        self.bot_user_id = self.add_user("Followback", bot=True)
        self.app_id = self.bot_user_id
        self.world.bot_user_id = self.bot_user_id
        self.app_name = "Followback"
        self.verify_key = secrets.token_hex(32)

    # -- lifecycle -------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        from bot.standin.control import setup_control

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_subapp("/api/v10", build_api(self))
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        app.router.add_get("/cdn/{tail:.*}", _cdn)
        setup_control(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self.host = host
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        server = site._server
        sockets: list[socket.socket] = list(getattr(server, "sockets", None) or [])
        self.port = sockets[0].getsockname()[1] if sockets else port
        return self.base_url

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    # -- identity --------------------------------------------------------------------------------
    def token_ok(self, token: str) -> bool:
        """REST strips "Bot " before calling; the gateway's IDENTIFY may carry it or not."""
        token = token.removeprefix("Bot ")
        return self.token is None or secrets.compare_digest(token.encode(), self.token.encode())

    def members_intent_enabled(self) -> bool:
        return "members" in self.privileged_intents

    def application_flags(self) -> int:
        flags = 0
        if "presences" in self.privileged_intents:
            flags |= 1 << 13  # GATEWAY_PRESENCE_LIMITED
        if "members" in self.privileged_intents:
            flags |= 1 << 15  # GATEWAY_GUILD_MEMBERS_LIMITED
        if "message_content" in self.privileged_intents:
            flags |= 1 << 19  # GATEWAY_MESSAGE_CONTENT_LIMITED
        return flags

    def application_json(self) -> Json:
        return {
            "id": str(self.app_id),
            "name": self.app_name,
            "icon": None,
            "description": "A self-hosted follow-back bot (local stand-in).",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": self.verify_key,
            "owner": self.world.user_json(self.app_owner_id),
            "team": None,
            "flags": self.application_flags(),
            "bot": self.world.user_json(self.bot_user_id),
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "approximate_guild_count": len(self.world.guilds),
            "integration_types_config": {"0": {}},
            "hook": True,
        }

    # -- building the world (sync; dispatches go out if clients are connected) --------------------
    def add_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        bot: bool = False,
        spammer: bool = False,
        avatar: str | None = None,
        created_at: datetime | None = None,
        dms_closed: bool = False,
        public_flags: int = 0,
    ) -> int:
        # created_at is encoded into the snowflake: discord.py derives User.created_at from the id
        user_id = self.world.new_id(created_at)
        flags = public_flags | (SPAMMER_FLAG if spammer else 0)
        self.world.users[user_id] = User(
            user_id, username, global_name, bot, avatar, flags, dms_closed
        )
        return user_id

    def add_guild(self, name: str, owner_id: int | None = None, screening: bool = False) -> int:
        owner_id = self.app_owner_id if owner_id is None else owner_id
        if owner_id not in self.world.users:
            raise KeyError(f"unknown owner user {owner_id}")
        world = self.world
        guild_id = world.new_id()
        guild = Guild(guild_id, name, owner_id, screening)
        world.guilds[guild_id] = guild
        guild.roles[guild_id] = Role(guild_id, guild_id, "@everyone", 0, EVERYONE_PERMISSIONS)
        bot_role = world.new_id()
        guild.roles[bot_role] = Role(
            bot_role,
            guild_id,
            self.app_name,
            1,
            BOT_PERMISSIONS,
            managed=True,
            bot_id=self.bot_user_id,
        )
        now = world.now()
        guild.members[owner_id] = Member(owner_id, guild_id, now)
        guild.members[self.bot_user_id] = Member(self.bot_user_id, guild_id, now, [bot_role])
        guild.ever_joined.update(guild.members)
        for session in list(self.gateway.sessions.values()):  # the bot "joins" a new guild
            data = self.gateway.guild_create(session, guild_id)
            session.send_dispatch("GUILD_CREATE", json.dumps(data))
        return guild_id

    def bot_role_id(self, guild_id: int) -> int:
        guild = self.world.guilds[guild_id]
        return next(r.id for r in guild.roles.values() if r.bot_id == self.bot_user_id)

    def add_role(
        self,
        guild_id: int,
        name: str,
        position: int | None = None,
        *,
        permissions: int = 0,
        color: int = 0,
    ) -> int:
        """A role; by default just below the bot's role (so the bot can manage it)."""
        guild = self.world.guilds[guild_id]
        if position is None:
            position = guild.roles[self.bot_role_id(guild_id)].position
        shifted = []
        for role in guild.roles.values():
            if role.id != guild_id and role.position >= position:
                role.position += 1
                shifted.append(role)
        role_id = self.world.new_id()
        role = Role(role_id, guild_id, name, max(1, position), permissions, color=color)
        guild.roles[role_id] = role
        self.gateway.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild_id), "role": role.to_json()}, intent=GUILDS
        )
        for other in shifted:
            self.gateway.dispatch(
                "GUILD_ROLE_UPDATE",
                {"guild_id": str(guild_id), "role": other.to_json()},
                intent=GUILDS,
            )
        return role_id

    def add_text_channel(self, guild_id: int, name: str) -> int:
        guild = self.world.guilds[guild_id]
        channel_id = self.world.new_id()
        channel = Channel(channel_id, 0, name, guild_id, position=len(guild.channels))
        guild.channels[channel_id] = channel
        self.world.channels[channel_id] = channel
        self.gateway.dispatch("CHANNEL_CREATE", channel.to_json(), intent=GUILDS)
        return channel_id

    def set_overwrite(
        self,
        channel_id: int,
        target_id: int,
        *,
        allow: int = 0,
        deny: int = 0,
        member: bool = False,
    ) -> None:
        """A permission overwrite on a guild channel for a role (or a member), as the owner sets
        it; allow = deny = 0 removes it. Dispatches CHANNEL_UPDATE."""
        channel = self.world.channels[channel_id]
        if allow or deny:
            channel.overwrites[target_id] = (1 if member else 0, allow, deny)
        else:
            channel.overwrites.pop(target_id, None)
        self.gateway.dispatch("CHANNEL_UPDATE", channel.to_json(), intent=GUILDS)

    def dm_channel(self, user_id: int) -> Channel:
        """The bot's DM channel with a user (created on first use, as POST /users/@me/channels)."""
        world = self.world
        existing = world.dm_by_user.get(user_id)
        if existing is not None:
            return world.channels[existing]
        channel = Channel(world.new_id(), 1, None, None, recipient_id=user_id)
        world.channels[channel.id] = channel
        world.dm_by_user[user_id] = channel.id
        return channel

    # -- dispatch helpers ------------------------------------------------------------------------
    def dispatch_member_update(self, guild_id: int, user_id: int) -> None:
        data = self.world.member_json(guild_id, user_id)
        data["guild_id"] = str(guild_id)
        self.gateway.dispatch("GUILD_MEMBER_UPDATE", data, intent=GUILD_MEMBERS)

    def message_payloads(self, msg: Message, data: Json) -> tuple[int, Json | None]:
        """The intent a message event needs, and its JSON for sessions without MESSAGE_CONTENT
        (None when they see the same)."""
        intent = GUILD_MESSAGES if msg.guild_id else DIRECT_MESSAGES
        stripped = without_content(data, self.bot_user_id)
        return intent, (None if stripped == data else stripped)

    def readable(self, data: Json) -> Json:
        """A message as REST returns it: emptied if the app lacks the MESSAGE_CONTENT intent."""
        if "message_content" in self.privileged_intents:
            return data
        return without_content(data, self.bot_user_id)

    def store_and_dispatch(self, msg: Message) -> None:
        world = self.world
        if msg.flags & EPHEMERAL:
            world.messages[msg.id] = msg  # only the invoking user sees it: no MESSAGE_CREATE
            return
        world.add_message(msg)
        data = world.message_json(msg.id)
        intent, stripped = self.message_payloads(msg, data)
        self.gateway.dispatch("MESSAGE_CREATE", data, intent=intent, stripped=stripped)

    def dispatch_reaction(self, msg: Message, user_id: int, emoji: str, *, added: bool) -> None:
        data: Json = {
            "user_id": str(user_id),
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": emoji_json(emoji),
            "burst": False,
            "type": 0,
        }
        if msg.guild_id:
            data["guild_id"] = str(msg.guild_id)
            if added and user_id in self.world.guilds[msg.guild_id].members:
                data["member"] = self.world.member_json(msg.guild_id, user_id)
            if added:
                data["message_author_id"] = str(msg.author_id)
        intent = GUILD_MESSAGE_REACTIONS if msg.guild_id else DIRECT_MESSAGE_REACTIONS
        event = "MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE"
        self.gateway.dispatch(event, data, intent=intent)

    def dispatch_message_update(self, msg: Message) -> None:
        data = self.world.message_json(msg.id)
        intent, stripped = self.message_payloads(msg, data)
        self.gateway.dispatch("MESSAGE_UPDATE", data, intent=intent, stripped=stripped)

    def delete_and_dispatch(self, msg: Message) -> None:
        self.world.delete_message(msg.id)
        data: Json = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id:
            data["guild_id"] = str(msg.guild_id)
        intent = GUILD_MESSAGES if msg.guild_id else DIRECT_MESSAGES
        if not msg.flags & EPHEMERAL:
            self.gateway.dispatch("MESSAGE_DELETE", data, intent=intent)

    # -- queries ---------------------------------------------------------------------------------
    def member_roles(self, guild_id: int, user_id: int) -> set[int]:
        member = self.world.guilds[guild_id].members.get(user_id)
        return set(member.roles) if member else set()

    def member(self, guild_id: int, user_id: int) -> Json | None:
        guild = self.world.guilds.get(guild_id)
        if guild is None or user_id not in guild.members:
            return None
        return self.world.member_json(guild_id, user_id)

    def user(self, user_id: int) -> Json | None:
        return self.world.user_json(user_id) if user_id in self.world.users else None

    def messages(self, channel_id: int) -> list[Json]:
        """Messages in a channel, oldest first, as Discord's JSON plus the `allowed_mentions`
        the bot sent with each (None when it sent none or a user wrote it)."""
        out = []
        for message_id in self.world.channel_messages.get(channel_id, []):
            data = self.world.message_json(message_id)
            data["allowed_mentions"] = self.world.messages[message_id].allowed_mentions
            out.append(data)
        return out

    def dms_to(self, user_id: int) -> list[Json]:
        """Messages the bot sent in its DM channel with this user."""
        channel_id = self.world.dm_by_user.get(user_id)
        if channel_id is None:
            return []
        return [m for m in self.messages(channel_id) if int(m["author"]["id"]) == self.bot_user_id]

    def sessions(self) -> list[Session]:
        return list(self.gateway.sessions.values())

    def connected_sessions(self) -> list[Session]:
        return [s for s in self.gateway.sessions.values() if s.conn is not None]

    async def wait_for(
        self,
        method: str | None,
        route: str | None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Recorded]:
        """Wait until the bot made `count` such requests (all of them so far are returned)."""
        return await self.recorder.wait_for(method, route, count, timeout)

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        async def poll() -> None:
            while len(self.connected_sessions()) < count:  # noqa: ASYNC110 - rare, test-only
                await asyncio.sleep(0.01)

        await asyncio.wait_for(poll(), timeout)

    # -- faults ----------------------------------------------------------------------------------
    def rate_limit(
        self, route: str | None, limit: int, per: float, *, bucket: str | None = None
    ) -> None:
        """Enforce `limit` requests per `per` seconds on a route (None: on every route), with
        bucket headers so discord.py paces itself, and 429 when exceeded. Buckets are per major
        parameter (guild, channel, webhook); routes given the same `bucket` name share one."""
        self.rate_limits.set(route, limit, per, bucket=bucket)

    async def drop_connection(self, resumable: bool = True, *, reconnect_op: bool = False) -> None:
        """Resumable: close with 4000 (or send op 7 RECONNECT if `reconnect_op`); events in the
        meantime are replayed on RESUME. Not resumable: op 9 INVALID_SESSION d=false."""
        await self.gateway.drop(resumable=resumable, reconnect_op=reconnect_op)

    async def flush(self) -> None:
        """Let queued gateway frames reach the sockets."""
        await self.gateway.flush()


async def _cdn(request: web.Request) -> web.Response:
    return web.Response(status=404, text="not found")
