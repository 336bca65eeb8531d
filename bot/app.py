"""Start and stop the whole bot: store, policy, client. Used by `run`, the demo and tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.client.bot import FollowbackBot
from bot.runlog import RunLog
from bot.service.clock import Clock, SystemClock
from bot.service.events import EventBus
from bot.service.policy_holder import PolicyHolder
from bot.settings import Settings, SettingsError, load_settings
from bot.startup import check_login, describe_failure, lock_database
from bot.store import OutboxRow, Store

log = logging.getLogger(__name__)


@dataclass
class Running:
    bot: FollowbackBot
    store: Store
    policies: PolicyHolder
    task: asyncio.Task[None]

    async def stop(self) -> None:
        await self.policies.stop()
        await self.bot.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self.task, 10)
        await self.store.close()


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
    """Open the store, load the policy, connect, and wait for READY and the catch-up."""
    policies = PolicyHolder.load(settings.policy)
    store = await Store.open(settings.database)
    bot = FollowbackBot(
        settings=settings,
        store=store,
        policies=policies,
        clock=clock or SystemClock(),
        events=events,
        after_send=after_send,
        **bot_options,
    )
    task = asyncio.create_task(bot.start(token), name="followback-client")
    ready = asyncio.create_task(bot.caught_up.wait())
    await asyncio.wait({task, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        await bot.close()
        await store.close()
        if task.done() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
        raise TimeoutError("the bot did not become ready in time")
    if watch_policy:
        policies.start_watching(policy_watch_interval, on_error=bot.tell_owner_policy_broken)
    return Running(bot, store, policies, task)


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def run_bot() -> int:
    """`followback run`: Discord with the token from .env; no token runs the demo.

    Order matters: settings are checked, then the token is tried against the API, and only
    then are the database's folder, lock and file created. Known failures print one line.
    """
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"followback: {line}", file=sys.stderr)
        return 2
    if settings.token is None or not settings.token.get_secret_value():
        print("followback: no DISCORD_TOKEN in .env; running the demo against the local stand-in")
        from bot.demo import run_demo

        return run_demo()
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
