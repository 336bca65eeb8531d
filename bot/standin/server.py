"""StandIn: the server plus the in-process driver that tests and the demo use.

It only composes the parts (the world, the application, the gateway, the events, the drivers,
faults and rate limits) and serves them; each part takes just the others it uses.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.standin.application import Application
from bot.standin.builder import Builder
from bot.standin.commands import CommandCreates
from bot.standin.connection import Session
from bot.standin.control import setup_control
from bot.standin.driver_interactions import InteractionDriver
from bot.standin.driver_members import MemberDriver
from bot.standin.events import Events
from bot.standin.faults import Faults
from bot.standin.gateway import Gateway
from bot.standin.holds import Holds
from bot.standin.interactions import Interactions
from bot.standin.model import Json
from bot.standin.outgoing import Nonces
from bot.standin.ratelimits import DISCORD_SCALE, DmOpens, RateLimits
from bot.standin.recorder import Recorded, Recorder
from bot.standin.rest import build_api
from bot.standin.sample import SampleWorld, seed_sample
from bot.standin.state import World

DEFAULT_PRIVILEGED = frozenset({"members", "message_content"})


class StandIn:
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
        this; 1.0 (the default) is Discord's, 0 turns them off."""
        self.world = world = World()
        owner_id = world.add_user("owner", global_name="The Owner")
        bot_user_id = world.add_user("Followback", bot=True)
        world.bot_user_id = bot_user_id
        privileged = DEFAULT_PRIVILEGED if privileged_intents is None else privileged_intents
        self.app = Application(token, set(privileged), owner_id, bot_user_id)
        self.recorder = Recorder()
        self.faults = Faults()
        self.holds = Holds()  # answers held after the request took effect
        self.rate_limits = RateLimits()
        self.rate_limits.use_default_buckets(rate_limit_scale)
        self.dm_opens = DmOpens()  # 403 40003 when opening DMs too fast; off until set()
        self.command_creates = CommandCreates()  # 200 per day per guild; .set() shortens it
        self.nonces = Nonces()
        self.interactions = Interactions()
        self.gateway = Gateway(world, self.app)
        self.member_requests = self.gateway.member_requests  # op 8: chunks, RATE_LIMITED, faults
        self.member_requests.window = member_request_window
        self.events = Events(world, self.gateway)
        self.builder = Builder(world, self.gateway, self.app)
        self.members = MemberDriver(world, self.gateway, self.events)
        self.interaction_driver = InteractionDriver(
            world, self.gateway, self.app, self.interactions
        )
        self.runner: web.AppRunner | None = None
        # the driver API, as methods of the stand-in
        builder, members, ix = self.builder, self.members, self.interaction_driver
        self.add_user = builder.add_user
        self.add_guild = builder.add_guild
        self.bot_role_id = builder.bot_role_id
        self.add_role = builder.add_role
        self.add_text_channel = builder.add_text_channel
        self.set_overwrite = builder.set_overwrite
        self.dm_channel = world.dm_channel
        self.add_member = members.add_member
        self.join = members.join
        self.join_many = members.join_many
        self.repeat_join = members.repeat_join
        self.leave = members.leave
        self.complete_screening = members.complete_screening
        self.set_member_roles = members.set_member_roles
        self.set_nick = members.set_nick
        self.say = members.say
        self.edit = members.edit
        self.delete = members.delete
        self.react = members.react
        self.dm = members.dm
        self.slash = ix.slash
        self.autocomplete = ix.autocomplete
        self.click = ix.click
        self.submit_modal = ix.submit_modal
        self.hold_responses = self.holds.hold
        self.held = self.holds.held
        self.release_held = self.holds.release
        self.wait_held = self.holds.wait_held

    # -- identity --------------------------------------------------------------------------------
    @property
    def bot_user_id(self) -> int:
        return self.app.bot_user_id

    @property
    def app_id(self) -> int:
        return self.app.id

    @property
    def app_owner_id(self) -> int:
        return self.app.owner_id

    @property
    def privileged_intents(self) -> set[str]:
        return self.app.privileged_intents

    @property
    def interaction_window(self) -> float:
        """Seconds the bot has to answer an interaction (Discord: 3)."""
        return self.interactions.window

    @interaction_window.setter
    def interaction_window(self, seconds: float) -> None:
        self.interactions.window = seconds

    # -- lifecycle -------------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        api = build_api(
            world=self.world,
            app=self.app,
            events=self.events,
            interactions=self.interactions,
            command_creates=self.command_creates,
            dm_opens=self.dm_opens,
            nonces=self.nonces,
            faults=self.faults,
            holds=self.holds,
            rate_limits=self.rate_limits,
            recorder=self.recorder,
        )
        app.add_subapp("/api/v10", api)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        app.router.add_get("/cdn/{tail:.*}", cdn)
        setup_control(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self.app.host = host
        self.runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port, reuse_address=True)
        await site.start()
        addresses = self.runner.addresses
        self.app.port = int(addresses[0][1]) if addresses else port
        return self.base_url

    async def stop(self) -> None:
        self.holds.clear()  # no answer may keep the server from closing
        await self.gateway.close_all()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def host(self) -> str:
        return self.app.host

    @property
    def port(self) -> int:
        return self.app.port

    @property
    def base_url(self) -> str:
        return self.app.base_url

    @property
    def ws_url(self) -> str:
        return self.app.ws_url

    def seed_sample(self) -> SampleWorld:
        return seed_sample(self)

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

    def all_dms(self) -> list[Json]:
        """Every message the bot sent in a DM, to anyone, oldest first; each also names its
        `recipient_id` (a string, as ids are)."""
        out = []
        for user_id in self.world.dm_by_user:
            for message in self.dms_to(user_id):
                message["recipient_id"] = str(user_id)
                out.append(message)
        return sorted(out, key=lambda m: int(m["id"]))  # snowflakes grow with time

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
    def clear_faults(self) -> None:
        """Drop injected faults and delays, and hold rules (releasing held answers)."""
        self.faults.clear()
        self.holds.clear()

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


async def cdn(request: web.Request) -> web.Response:
    return web.Response(status=404, text="not found")
