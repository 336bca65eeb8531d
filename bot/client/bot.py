"""The discord.py client: wires the store, the policy and the services at start-up."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import discord
from discord.ext import commands

from bot.client.actions import DiscordActions
from bot.client.directory import GuildDirectory
from bot.policy import PolicyError, parse_duration
from bot.service.clock import Clock
from bot.service.events import BotStarted, EventBus
from bot.service.followers import FollowerService
from bot.service.outbox import DmLimits, Outbox
from bot.service.planning import Hooks
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import TimerScheduler
from bot.settings import Settings
from bot.store import ActionSpec, OutboxRow, Store

log = logging.getLogger(__name__)

ROLE_ECHO_WINDOW = 15.0  # seconds an own role change's gateway echo is expected


class MissingIntents(Exception):
    """A privileged intent is not enabled in the Developer Portal."""


def make_intents(message_content: bool = True) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True  # privileged: joins, leaves, screening, roles
    intents.guild_messages = True
    intents.message_content = message_content  # privileged: only text rules need it
    return intents


class FollowbackBot(commands.Bot):
    followers: FollowerService
    outbox: Outbox
    timers: TimerScheduler

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        policies: PolicyHolder,
        clock: Clock,
        events: EventBus | None = None,
        after_send: Callable[[OutboxRow], Awaitable[None]] | None = None,
        message_content: bool = True,
        **options: object,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=make_intents(message_content),
            allowed_mentions=discord.AllowedMentions.none(),  # never ping anyone
            help_command=None,
            **options,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.store = store
        self.policies = policies
        self.clock = clock
        self.owner_user_id: int | None = settings.owner_id
        self.directory = GuildDirectory(self)
        self.events = events or EventBus()
        self._after_send = after_send
        self._role_echoes: dict[tuple[int, int], float] = {}
        self.caught_up = asyncio.Event()  # set once start-up catch-up has run

    # --- start-up -------------------------------------------------------------------

    async def setup_hook(self) -> None:
        assert self.user is not None
        app = await self.application_info()
        if not _check_intents(app, self.intents):
            # Asking for an intent the portal has not enabled closes the gateway (4014).
            self._connection._intents.message_content = False
        if self.owner_user_id is None and app.owner is not None:
            self.owner_user_id = app.owner.id
        if self.events.listening:
            self.events.emit(
                BotStarted(
                    policy_path=self.policies.path,
                    policy_version=self.policies.current.version,
                    database=self.settings.database,
                    guild_ids=tuple(self.settings.guild_ids),
                    intents=tuple(name for name, on in self.intents if on),
                )
            )

        self.followers = FollowerService(
            self.store,
            self.policies,
            self.clock,
            self.directory,
            bot_user_id=self.user.id,
            churn_window=parse_duration(self.settings.churn_window),
            owner_id=self.owner_user_id,
            hooks=Hooks(
                wake_outbox=lambda: self.outbox.wake(),
                schedule_timer=lambda due: self.timers.schedule(due),
            ),
            events=self.events,
        )
        self.outbox = Outbox(
            self.store,
            DiscordActions(self, self.expect_role_echo),
            self.clock,
            self._dm_limits,
            after_send=self._after_send,
            events=self.events,
        )
        self.timers = TimerScheduler(self.store, self.clock, self.followers.timer_due)

        await self.outbox.recover()
        self.timers.start()
        rebuilt = await self.timers.rebuild()
        resumed = await self.followers.resume_unprocessed()
        self.followers.start()
        self.outbox.start()
        log.info("start-up: %d timers rebuilt, %d stored events decided", rebuilt, resumed)

        from bot.client.cogs.followers import FollowersCog

        await self.add_cog(FollowersCog(self))

    async def tell_owner_policy_broken(self, error: PolicyError) -> None:
        """A broken edit: the owner hears of it by DM (through the outbox, once)."""
        if self.owner_user_id is None:
            return
        problems = str(error)
        if len(problems) > 1500:
            problems = problems[:1500] + "\n..."
        text = (
            "Your policy file has problems, so the previous policy stays in force:\n"
            f"```\n{problems}\n```"
        )
        action = ActionSpec("dm", {"text": text, "owner_notice": True})
        await self.store.enqueue_actions(0, self.owner_user_id, [action], self.clock.now())
        self.outbox.wake()

    def _dm_limits(self) -> DmLimits:
        policy = self.policies.current
        return DmLimits(
            per_day=policy.limits.dms_per_day,
            spacing=policy.limits.dm_spacing,
            cooldown=policy.limits.dm_cooldown,
            timezone=policy.owner.timezone,
        )

    def watches(self, guild_id: int) -> bool:
        return not self.settings.guild_ids or guild_id in self.settings.guild_ids

    # --- own role changes ------------------------------------------------------------

    def expect_role_echo(self, guild_id: int, user_id: int) -> None:
        self._role_echoes[(guild_id, user_id)] = time.monotonic() + ROLE_ECHO_WINDOW

    def is_role_echo(self, guild_id: int, user_id: int) -> bool:
        until = self._role_echoes.pop((guild_id, user_id), None)
        return until is not None and until >= time.monotonic()

    async def close(self) -> None:
        if hasattr(self, "followers"):
            await self.followers.stop()
        if hasattr(self, "outbox"):
            await self.outbox.stop()
        if hasattr(self, "timers"):
            self.timers.shutdown()
        await super().close()


def _check_intents(app: discord.AppInfo, intents: discord.Intents) -> bool:
    """Name a missing privileged intent before the gateway closes with 4014.

    Returns False when message content must be dropped from the intents.
    """
    flags = app.flags
    if intents.members and not (flags.gateway_guild_members or flags.gateway_guild_members_limited):
        raise MissingIntents(
            "the Server Members intent is not enabled: Discord Developer Portal -> your "
            "application -> Bot -> Privileged Gateway Intents -> Server Members Intent"
        )
    if intents.message_content and not (
        flags.gateway_message_content or flags.gateway_message_content_limited
    ):
        log.warning(
            "the Message Content intent is not enabled (Developer Portal -> Bot -> "
            "Privileged Gateway Intents); mentions still work, text rules see no text"
        )
        return False
    return True


__all__ = ["FollowbackBot", "MissingIntents", "make_intents"]
