"""The discord.py client: gateway events in, through the cogs, to services built by bot.app.

The client builds nothing but its own Discord-side parts (the guild directory, the
action gateway, own role-change echoes). `bot.app` logs it in, builds the store and the
services, attaches them, then connects: the composition root is there, not here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import discord
from discord.ext import commands

from bot.client.actions import DiscordActions
from bot.client.command_sync import SyncLog, sync_if_changed
from bot.client.directory import GuildDirectory
from bot.client.roster import MemberListWatch, hook_rate_limited, request_all_members
from bot.client.tree import FollowbackTree
from bot.client.views.digest import DigestPageButton
from bot.client.views.review import PERSISTENT_ITEMS as REVIEW_ITEMS
from bot.service.clock import Clock
from bot.service.control import OwnerTools
from bot.service.digest import DigestService
from bot.service.followers import FollowerService
from bot.service.mentions import MentionService
from bot.service.policy_holder import PolicyHolder
from bot.settings import Settings

log = logging.getLogger(__name__)

ROLE_ECHO_WINDOW = 15.0  # seconds an own role change's gateway echo is expected
ROLE_ECHO_CAP = 10_000  # own role changes awaiting their echo, at most
# Loaded by name in setup_hook; each module has a `setup(bot)` (no import of them here).
EXTENSIONS = (
    "bot.client.cogs.followers",
    "bot.client.cogs.digest",
    "bot.client.cogs.owner",
    "bot.client.cogs.mentions",
)
# Components that must keep working across restarts (discord.ui.DynamicItem classes).
PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    DigestPageButton,
    *REVIEW_ITEMS,
)


class MissingIntents(Exception):
    """A privileged intent is not enabled in the Developer Portal."""


@dataclass(frozen=True, slots=True)
class Services:
    """What the cogs hand gateway events to (built by bot.app once logged in)."""

    followers: FollowerService
    policies: PolicyHolder
    owner_id: int | None  # whose mentions count as activity (delegates' do not)
    mentions: MentionService | None = None  # mentions stored, decided and answered
    owner_tools: OwnerTools | None = None  # the owner's commands and review buttons
    digest: DigestService | None = None  # /digest now and the digest's page buttons


def make_intents(message_content: bool = True) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True  # privileged: joins, leaves, screening, roles
    intents.guild_messages = True
    intents.guild_reactions = True  # the owner's reaction to a mention answers it
    intents.message_content = message_content  # privileged: only text rules need it
    return intents


def owner_options(settings: Settings) -> dict[str, Any]:
    """discord.py's owner_id / owner_ids from the settings (it accepts only one of them):
    `is_owner()` then honours FOLLOWBACK_OWNER_ID and the delegates."""
    owners = set(settings.delegate_ids)
    if not owners:
        return {} if settings.owner_id is None else {"owner_id": settings.owner_id}
    if settings.owner_id is not None:
        owners.add(settings.owner_id)
    return {"owner_ids": owners}


class FollowbackBot(commands.Bot):
    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        message_content: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=make_intents(message_content),
            allowed_mentions=discord.AllowedMentions.none(),  # never ping anyone
            help_command=None,
            tree_cls=FollowbackTree,
            **owner_options(settings),
            **options,
        )
        self.settings = settings
        self.clock = clock
        self.directory = GuildDirectory(self)
        self.actions = DiscordActions(self, self.expect_role_echo)
        self._services: Services | None = None
        # Called with each message from on_message (cogs add theirs when loaded).
        self.message_readers: list[Callable[[discord.Message], None]] = []
        self.command_sync_log: SyncLog | None = None  # the store, set by bot.app
        self._role_echoes = RoleEchoes()
        # Catch-up waits for complete member lists; this asks again and hears RATE_LIMITED.
        self.member_lists = MemberListWatch(partial(request_all_members, self))
        hook_rate_limited(self, self.member_lists.note_rate_limited)
        # on_ready handled: every guild caught up or its catch-up waiting (live events flow).
        self.serving = asyncio.Event()
        self.caught_up = asyncio.Event()  # every watched guild caught up

    # --- start-up (in bot.app's order: login, check_intents, attach, connect) ----------

    async def setup_hook(self) -> None:
        for name in EXTENSIONS:
            await self.load_extension(name)
        if PERSISTENT_ITEMS:
            self.add_dynamic_items(*PERSISTENT_ITEMS)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """Publish the slash commands to the watched guilds, only where they changed since
        the last sync (hashes in the store); never fatal (the bot still follows back)."""
        if not self.tree.get_commands():
            return
        if self.command_sync_log is None:
            try:
                await self.tree.sync()
            except discord.HTTPException as exc:
                log.warning("slash commands not synced: %s", exc)
            return
        await sync_if_changed(
            self.tree, self.settings.guild_ids, self.command_sync_log, self.clock.now()
        )

    def check_intents(self) -> None:
        """After login: name a missing privileged intent before the gateway closes (4014)."""
        assert self.application is not None, "log in first"
        if not _check_intents(self.application, self.intents):
            # Asking for an intent the portal has not enabled closes the gateway (4014).
            self._connection._intents.message_content = False

    def resolve_owner(self) -> int | None:
        """The owner: FOLLOWBACK_OWNER_ID, else the application's owner (known after login),
        who then also counts for `is_owner()`."""
        if self.settings.owner_id is not None:
            return self.settings.owner_id
        app = self.application
        if app is None or app.owner is None:
            return None
        if self.owner_ids:
            self.owner_ids = {*self.owner_ids, app.owner.id}
        else:
            self.owner_id = app.owner.id
        return app.owner.id

    def attach(self, services: Services) -> None:
        """The services the cogs hand events to: attached before the gateway connects."""
        self._services = services

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("no services attached: bot.app attaches them before connecting")
        return self._services

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands here (every command is a slash command), so no parsing of each
        message for one. Readers that only hand a message over (no await) are called here,
        in the one task discord.py starts for this method, not a task each."""
        for read in self.message_readers:
            read(message)

    def watches(self, guild_id: int) -> bool:
        return not self.settings.guild_ids or guild_id in self.settings.guild_ids

    # --- own role changes ------------------------------------------------------------

    def expect_role_echo(self, guild_id: int, user_id: int) -> None:
        self._role_echoes.expect(guild_id, user_id)

    def is_role_echo(self, guild_id: int, user_id: int) -> bool:
        return self._role_echoes.is_echo(guild_id, user_id)


class RoleEchoes:
    """Own role changes whose gateway echo is still expected, bounded: an echo that never
    comes (the member left, the gateway dropped it) is forgotten after `window` seconds,
    and never more than `cap` are kept (the oldest go first)."""

    def __init__(
        self,
        window: float = ROLE_ECHO_WINDOW,
        cap: int = ROLE_ECHO_CAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window, self.cap, self._clock = window, cap, clock
        # Ordered by expiry (the window is the same for all): pruned from the front.
        self._until: OrderedDict[tuple[int, int], float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._until)

    def expect(self, guild_id: int, user_id: int) -> None:
        now = self._clock()
        key = (guild_id, user_id)
        self._until.pop(key, None)
        self._until[key] = now + self.window
        while self._until:
            oldest, until = next(iter(self._until.items()))
            if until >= now and len(self._until) <= self.cap:
                break
            del self._until[oldest]

    def is_echo(self, guild_id: int, user_id: int) -> bool:
        until = self._until.pop((guild_id, user_id), None)
        return until is not None and until >= self._clock()


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


__all__ = [
    "FollowbackBot",
    "MissingIntents",
    "RoleEchoes",
    "Services",
    "make_intents",
    "owner_options",
]
