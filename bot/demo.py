"""`followback demo`: the whole bot against the local stand-in, on a fast clock.

A scripted scenario covering every decision, a late follow-back falling due, a
closed DM, and a restart in the middle; prints a readable transcript.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import bundled
from bot.app import Running, start_bot
from bot.client.target import point_discord_at, reset_discord_target
from bot.service.clock import ScaledClock
from bot.settings import Settings
from bot.standin import SampleWorld, StandIn

DEMO_POLICY = bundled.policy_path(bundled.DEMO_POLICY)  # inside the package: pip install .
OWNER_TZ = ZoneInfo("Europe/Berlin")  # as in policies/demo.yaml
SPEED = 3600.0  # one real second is one virtual hour
TOKEN = "demo-token"  # the stand-in accepts any token


class Transcript:
    def __init__(self, clock: ScaledClock, write: Callable[[str], None]) -> None:
        self.clock = clock
        self._write = write

    def line(self, text: str) -> None:
        # The owner's local time, as in the DMs the bot sends.
        now = self.clock.now().astimezone(OWNER_TZ)
        self._write(f"[{now:%a %H:%M}] {text}")

    def heading(self, text: str) -> None:
        self._write(f"\n== {text}")


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.05)
    return False


class Demo:
    def __init__(self, database: Path, write: Callable[[str], None]) -> None:
        self.database = database
        self.standin = StandIn()
        self.clock = ScaledClock(datetime.now(UTC).replace(microsecond=0), speed=SPEED)
        self.t = Transcript(self.clock, write)
        self.world: SampleWorld
        self.running: Running | None = None
        self.ids: dict[str, int] = {}

    async def start_bot(self) -> None:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            policy=DEMO_POLICY,
            database=self.database,
            owner_id=self.world.owner_id,
            guild_ids=[self.world.guild_id],
        )
        self.running = await start_bot(
            settings,
            TOKEN,
            clock=self.clock,
            report=self.t.line,
            watch_policy=False,
            guild_ready_timeout=0.1,
        )

    async def stop_bot(self) -> None:
        assert self.running is not None
        await self.running.stop()
        self.running = None

    async def settled(self) -> None:
        """Wait until the bot has decided every stored event and drained its outbox."""
        await asyncio.sleep(0.3)
        assert self.running is not None
        store = self.running.store
        now = self.clock.now

        async def idle() -> bool:
            due = await store.due_actions(now(), limit=1)
            return not due and await store.events_without_decision() == 0

        await until(idle, timeout=10)

    async def join(self, name: str, story: str, **user: object) -> None:
        self.t.line(f"{name} joins ({story})")
        now = self.clock.now()
        created = now - user.pop("account_age", timedelta(days=400))  # type: ignore[operator]
        user.setdefault("avatar", "5f1d0c0ffee")  # a custom avatar unless the story says not
        self.ids[name] = await self.standin.join(
            self.world.guild_id,
            username=name,
            created_at=created,
            joined_at=now,
            **user,  # type: ignore[arg-type]
        )

    async def run(self) -> int:
        await self.standin.start()
        point_discord_at(self.standin.base_url)
        try:
            self.world = self.standin.seed_sample()
            return await self._scenario()
        finally:
            if self.running is not None:
                await self.stop_bot()
            await self.standin.stop()
            reset_discord_target()

    async def _scenario(self) -> int:
        g = self.world.guild_id
        self.t.heading("the bot starts; members already in the server are caught up")
        await self.start_bot()
        await self.settled()

        self.t.heading("new followers arrive")
        await self.join("barbara_l", "the owner knows her offline")
        await self.join("helperbot", "a bot account", bot=True)
        await self.join("free_nitro_4u", "a spammer's name")
        await self.join("newbie_nia", "a two-day-old account", account_age=timedelta(days=2))
        await self.join("quiet_quinn", "a one-day-old account", account_age=timedelta(days=1))
        await self.join("regular_rae", "an ordinary follower")
        await self.join("closed_cleo", "an ordinary follower whose DMs are closed", dms_closed=True)
        await self.join("leaving_leo", "an ordinary follower who will not stay")
        await self.join(
            "plain_pam",
            "a default avatar and a week-old account",
            avatar=None,
            account_age=timedelta(days=8),
        )
        await self.join("pending_pat", "has not passed membership screening yet", pending=True)
        await self.settled()

        self.t.heading("pending_pat passes membership screening")
        await self.standin.complete_screening(g, self.ids["pending_pat"])
        await self.settled()

        self.t.heading("newbie_nia talks while being observed")
        for text in ("hi all!", "loved the last post", "here's my take on it"):
            await self.standin.say(self.world.general_channel_id, self.ids["newbie_nia"], text)
        await asyncio.sleep(0.3)

        self.t.heading("restart: the bot goes offline")
        await self.stop_bot()
        self.t.line("while offline: offline_olive joins; the owner unfollows barbara_l by hand")
        self.ids["offline_olive"] = await self.standin.join(
            g,
            username="offline_olive",
            joined_at=self.clock.now(),
            created_at=self.clock.now() - timedelta(days=900),
        )
        await self.standin.set_member_roles(g, self.ids["barbara_l"], [])
        await self.standin.leave(g, self.ids["leaving_leo"])
        self.t.line("while offline: leaving_leo leaves before his late follow-back")
        self.t.heading("the bot starts again: timers rebuilt, missed events caught up")
        await self.start_bot()
        await self.settled()

        self.t.heading("time passes: late follow-backs and observe windows fall due")
        assert self.running is not None
        store = self.running.store

        async def timers_done() -> bool:
            return not await store.scheduled_timers()

        await until(timers_done, timeout=20)
        await self.settled()
        return await self._summary()

    async def _summary(self) -> int:
        assert self.running is not None
        store, g = self.running.store, self.world.guild_id
        self.t.heading("summary")
        role = self.world.follow_back_role_id
        followed = sorted(
            name for name, uid in self.ids.items() if role in self.standin.member_roles(g, uid)
        )
        dms = {name: len(self.standin.dms_to(uid)) for name, uid in self.ids.items()}
        self.t.line(f"decisions stored: {await store.count_decisions(g)}")
        self.t.line(f"holding the follow-back role: {', '.join(followed) or 'nobody'}")
        self.t.line(
            "DMs delivered: " + ", ".join(f"{n} ({c})" for n, c in dms.items() if c) or "none"
        )
        leftover = await store.events_without_decision()
        self.t.line(f"events without a decision: {leftover}")
        return 0 if leftover == 0 else 1


def run_demo(database: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord").setLevel(logging.ERROR)  # no voice-support chatter
    logging.getLogger("bot.service.outbox").setLevel(logging.ERROR)  # the transcript says it
    with tempfile.TemporaryDirectory(prefix="followback-demo-") as tmp:
        path = Path(database) if database else Path(tmp) / "demo.sqlite3"
        demo = Demo(path, lambda line: print(line, flush=True))
        code = asyncio.run(demo.run())
    print(f"\ndemo finished: exit {code}", file=sys.stderr)
    return code
