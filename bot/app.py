"""The composition root: everything the bot is made of is built here, in one place.

Under one AsyncExitStack (as discord.py's examples/advanced_startup.py does): the policy,
the store, the client (logged in, so its user and the application's owner are known),
the services built from them, then the gateway connection. Each part registers how it
stops as it is built, so a failure at any step undoes exactly what was built before,
and `Running.stop()` undoes everything in reverse. Used by `run`, the demo and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from bot.client.bot import FollowbackBot, Services
from bot.client.views.digest import DigestPoster
from bot.policy import Policy, parse_duration
from bot.runlog import RunLog
from bot.service.clock import Clock, SystemClock
from bot.service.control import OwnerTools, PauseControl
from bot.service.digest import DigestService, store_mentions
from bot.service.events import BotStarted, EventBus
from bot.service.followers import FollowerService
from bot.service.member_status import MemberStatus
from bot.service.mentions import MentionService, unreadable_text_rules
from bot.service.outbox import Outbox, dm_limits_from
from bot.service.owner import OwnerNotices
from bot.service.planning import Hooks
from bot.service.policy_changes import PolicyAnnouncer
from bot.service.policy_holder import PolicyHolder
from bot.service.reviews import ReviewService
from bot.service.stats import StatsService
from bot.service.timers import TimerScheduler
from bot.settings import Settings
from bot.startup import check_login, describe_failure, lock_database
from bot.store import OutboxKind, OutboxRow, Store

log = logging.getLogger(__name__)


@dataclass
class Running:
    bot: FollowbackBot
    store: Store
    policies: PolicyHolder
    followers: FollowerService
    owner: OwnerNotices
    task: asyncio.Task[None]  # the gateway connection
    _stack: AsyncExitStack
    digest: DigestService | None = None

    async def stop(self) -> None:
        """Stop the services, disconnect, close the store: the reverse of building them."""
        await self._stack.aclose()


class _Connection:
    """The client's gateway connection: closed after the services that use it stop."""

    def __init__(self, bot: FollowbackBot) -> None:
        self.bot = bot
        self.task: asyncio.Task[None] | None = None

    def open(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(self.bot.connect(), name="followback-client")
        return self.task

    async def close(self) -> None:
        await self.bot.close()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.task, 10)


async def start_bot(
    settings: Settings,
    token: str,
    *,
    clock: Clock | None = None,
    events: EventBus | None = None,
    after_send: Callable[[OutboxRow], Awaitable[None]] | None = None,
    ready_timeout: float = 30.0,
    watch_policy: bool = True,
    policy_watch_interval: float = 2.0,
    **bot_options: Any,
) -> Running:
    """Build everything, connect, and wait for READY and the catch-up (or its waiting)."""
    stack = AsyncExitStack()
    try:
        return await _build(
            stack,
            settings,
            token,
            clock=clock or SystemClock(),
            events=events or EventBus(),
            after_send=after_send,
            ready_timeout=ready_timeout,
            watch_policy=watch_policy,
            policy_watch_interval=policy_watch_interval,
            bot_options=bot_options,
        )
    except BaseException:
        await stack.aclose()
        raise


async def _build(
    stack: AsyncExitStack,
    settings: Settings,
    token: str,
    *,
    clock: Clock,
    events: EventBus,
    after_send: Callable[[OutboxRow], Awaitable[None]] | None,
    ready_timeout: float,
    watch_policy: bool,
    policy_watch_interval: float,
    bot_options: dict[str, Any],
) -> Running:
    policies = PolicyHolder.load(settings.policy, events)  # a broken file is fatal here
    store = await Store.open(settings.database)
    stack.push_async_callback(store.close)

    bot = FollowbackBot(settings=settings, clock=clock, **bot_options)
    bot.command_sync_log = store  # commands synced at login only where they changed
    connection = _Connection(bot)
    stack.push_async_callback(connection.close)
    await asyncio.wait_for(bot.login(token), ready_timeout)  # runs setup_hook: the cogs
    bot.check_intents()  # before the gateway opens: a missing intent closes it (4014)
    assert bot.user is not None
    owner_id = bot.resolve_owner()
    unreadable = unreadable_text_rules(policies.current, bot.intents.message_content)
    if unreadable is not None:
        log.warning("%s", unreadable)
    if events.listening:
        events.emit(
            BotStarted(
                policy_path=policies.path,
                policy_version=policies.current.version,
                database=settings.database,
                guild_ids=tuple(settings.guild_ids),
                intents=tuple(name for name, on in bot.intents if on),
            )
        )

    outbox = Outbox(
        store, bot.actions, clock, dm_limits_from(policies), after_send=after_send, events=events
    )
    timers = TimerScheduler(store, clock)
    followers = FollowerService(
        store,
        policies,
        clock,
        bot.directory,
        bot_user_id=bot.user.id,
        churn_window=parse_duration(settings.churn_window),
        owner_id=owner_id,
        hooks=Hooks(wake_outbox=outbox.wake, schedule_timer=timers.schedule),
        events=events,
        catch_up_first=True,  # no timer or outbox row acts for a stay before catch-up
    )
    outbox.stay_ready = followers.caught_up
    followers.register_timers(timers)
    owner = OwnerNotices(store, clock, owner_id, wake_outbox=outbox.wake)
    mentions = MentionService(
        store,
        policies,
        clock,
        hooks=Hooks(wake_outbox=outbox.wake, schedule_timer=timers.schedule),
        events=events,
    )
    mentions.register_timers(timers)
    owner_tools = await _owner_tools(
        store, policies, clock, bot, settings, owner, outbox, timers, events
    )
    digest = DigestService(
        store,
        policies,
        clock,
        owner_id=owner_id,
        channel_id=settings.digest_channel_id,
        wake_outbox=outbox.wake,
        poster=DigestPoster(bot),
        mentions=store_mentions(store),
        events=events,
    )
    digest.register_timers(timers)
    outbox.register_sender(OutboxKind.DIGEST, digest.deliver)

    await outbox.recover()
    timers.start()
    stack.callback(timers.shutdown)
    await digest.start()  # a digest missed while down goes out once; the next is timed
    rebuilt = await timers.rebuild()
    resumed = await followers.resume_unprocessed()
    followers.start()
    stack.push_async_callback(followers.stop)
    mentions.start()
    stack.push_async_callback(mentions.stop)
    outbox.start()
    stack.push_async_callback(outbox.stop)
    log.info("start-up: %d timers rebuilt, %d stored events decided", rebuilt, resumed)

    bot.attach(
        Services(
            mentions=mentions,
            followers=followers,
            policies=policies,
            owner_id=owner_id,
            digest=digest,
            owner_tools=owner_tools,
        )
    )
    task = connection.open()
    # Each guild caught up, or waiting for its member list (logged; live events flow).
    ready = asyncio.create_task(bot.serving.wait())
    await asyncio.wait({task, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        if task.done() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
        raise TimeoutError("the bot did not become ready in time")
    if watch_policy:

        async def policy_changed(before: Policy) -> None:
            await owner_tools.announcer.announce(before)  # a valid edit: the change summary DM
            await digest.policy_changed(before)  # a new digest time: re-armed at once

        policies.start_watching(
            policy_watch_interval, on_error=owner.policy_broken, on_change=policy_changed
        )
        stack.push_async_callback(policies.stop)
    return Running(bot, store, policies, followers, owner, task, stack, digest)


async def _owner_tools(
    store: Store,
    policies: PolicyHolder,
    clock: Clock,
    bot: FollowbackBot,
    settings: Settings,
    owner: OwnerNotices,
    outbox: Outbox,
    timers: TimerScheduler,
    events: EventBus,
) -> OwnerTools:
    """The owner's controls; a stored pause holds the outbox and the timers from the start."""
    pause = PauseControl(store, clock, events)
    await pause.load()  # said in the log at start-up when paused
    outbox.paused = pause.paused
    timers.paused = pause.paused
    pause.on_resume(outbox.wake)
    pause.on_resume(lambda: asyncio.ensure_future(timers.rebuild()))
    return OwnerTools(
        reviews=ReviewService(
            store, policies, clock, bot.directory, wake_outbox=outbox.wake, events=events
        ),
        pause=pause,
        stats=StatsService(store, clock, lambda: policies.current.owner.timezone),
        announcer=PolicyAnnouncer(policies, owner, store=store, clock=clock, events=events),
        policies=policies,
        store=store,
        clock=clock,
        guild_ids=tuple(settings.guild_ids),
        member_status=MemberStatus(store, policies),
    )


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def run_bot(settings: Settings) -> int:
    """`followback run` with a token (cli.py plays the demo when there is none).

    Order matters: the token is tried against the API, and only then are the database's
    folder, lock and file created. Known failures print one line.
    """
    assert settings.token is not None
    token = settings.token.get_secret_value()
    if settings.api_base:
        from bot.client.target import point_discord_at

        point_discord_at(settings.api_base)
    try:
        asyncio.run(check_login(token))
        with lock_database(settings.database):
            _configure_logging(settings.log_level)
            asyncio.run(_run_forever(settings, token))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        message = describe_failure(exc, settings)
        if message is None:
            raise  # a bug: the traceback is what a report needs
        print(f"followback: {message}", file=sys.stderr)
        return 1
    return 0


async def _run_forever(settings: Settings, token: str) -> None:
    events = EventBus()
    events.subscribe(RunLog())  # the log shows each decision and action, as the demo does
    running = await start_bot(settings, token, events=events, ready_timeout=120.0)
    # `docker stop` sends SIGTERM: shut down as cleanly as on Ctrl-C.
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, running.task.cancel)
    try:
        await running.task
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        await running.stop()
