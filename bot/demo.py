"""`followback demo`: the whole bot against the local stand-in, on a fast clock.

A scripted scenario covering every decision, a late follow-back falling due, a
closed DM, and a restart in the middle; prints a readable transcript. The
transcript is the bot's own events in the words `followback run` logs them
(bot.runlog), and the closing summary is drawn from the same events.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import bundled
from bot.app import Running, start_bot
from bot.client.target import point_discord_at, reset_discord_target
from bot.demo_mentions import mention_kinds
from bot.demo_owner import owner_controls
from bot.policy import Action, load_policy
from bot.runlog import describe
from bot.service.clock import ScaledClock
from bot.service.events import (
    ActionRefused,
    BotStarted,
    CatchUpDone,
    DecisionMade,
    DigestSent,
    Event,
    EventBus,
    MemberLeft,
    OwnerActed,
    PolicyBroken,
    PolicyReloaded,
    RoleChangedByHand,
)
from bot.settings import Settings
from bot.standin import SampleWorld, StandIn
from bot.store import Store, TimerKind

DEMO_POLICY = bundled.policy_path(bundled.DEMO_POLICY)  # inside the package: pip install .
SPEED = 3600.0  # one real second is one virtual hour
TOKEN = "demo-token"  # the stand-in accepts any token


def clock_words(speed: float) -> str:
    hours = speed / 3600
    return "one simulated hour" if hours == 1 else f"{hours:g} simulated hours"


class Transcript:
    def __init__(self, clock: ScaledClock, timezone: str, write: Callable[[str], None]) -> None:
        self.clock = clock
        self._tz = ZoneInfo(timezone)
        self._write = write

    def line(self, text: str) -> None:
        # The owner's local time, as in the DMs the bot sends.
        now = self.clock.now().astimezone(self._tz)
        self._write(f"[{now:%a %H:%M}] {text}")

    def heading(self, text: str) -> None:
        self._write(f"\n== {text}")

    def told(self, event: Event) -> None:
        """The bot's event in the run log's words (a decision's why on a line of its own)."""
        said = describe(event)
        if said is not None:
            self.line(said.replace("; why: ", "\n      why: ", 1))


@dataclass
class Tally:
    """What the events said, for a summary that matches the transcript."""

    names: dict[int, str] = field(default_factory=dict)  # every member an event named
    latest: dict[int, DecisionMade] = field(default_factory=dict)
    decisions: int = 0
    refused: dict[int, list[ActionRefused]] = field(default_factory=dict)
    left: set[int] = field(default_factory=set)
    unfollowed_by_hand: set[int] = field(default_factory=set)

    def __call__(self, event: Event) -> None:
        if isinstance(
            event,
            BotStarted | CatchUpDone | PolicyReloaded | PolicyBroken | DigestSent | OwnerActed,
        ):
            return  # about the bot, a guild, the policy or the owner, not a member
        self.names[event.user_id] = event.member
        if isinstance(event, DecisionMade):
            self.decisions += 1
            self.latest[event.user_id] = event
            self.left.discard(event.user_id)
        elif isinstance(event, ActionRefused):
            self.refused.setdefault(event.user_id, []).append(event)
        elif isinstance(event, MemberLeft):
            self.left.add(event.user_id)
        elif isinstance(event, RoleChangedByHand):
            changed = (
                self.unfollowed_by_hand.discard if event.followed else self.unfollowed_by_hand.add
            )
            changed(event.user_id)

    def pending_review(self) -> list[str]:
        """Members whose last decision is `review` and who are still here: a person decides."""
        return sorted(
            f"{self.names[uid]} (rule {d.decision.rule!r})"
            for uid, d in self.latest.items()
            if d.decision.action is Action.REVIEW and uid not in self.left
        )


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
        self.policy = load_policy(DEMO_POLICY)
        self.t = Transcript(self.clock, self.policy.owner.timezone, write)
        self.tally = Tally()
        self.events = EventBus()  # one bus across the restart: one transcript
        self.events.subscribe(self.tally)
        self.events.subscribe(self.t.told)
        self.world: SampleWorld
        self.running: Running | None = None
        self.ids: dict[str, int] = {}
        self.policy_path = DEMO_POLICY  # the owner's controls act on a temporary copy

    # --- what the owner's-controls act uses (bot.demo_owner.Stage) ---
    def say(self, text: str) -> None:
        self.t.line(text)

    def heading(self, text: str) -> None:
        self.t.heading(text)

    def store(self) -> Store:
        assert self.running is not None
        return self.running.store

    async def restart(self, policy: Path) -> None:
        await self.stop_bot()
        self.policy_path = policy
        await self.start_bot()
        await self.settled()

    async def start_bot(self) -> None:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            policy=self.policy_path,
            database=self.database,
            owner_id=self.world.owner_id,
            guild_ids=[self.world.guild_id],
        )
        self.running = await start_bot(
            settings,
            TOKEN,
            clock=self.clock,
            events=self.events,
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

    def _header(self) -> None:
        self.t.heading("followback demo: the whole bot against a local stand-in for Discord")
        self.t.line(f"policy: {DEMO_POLICY} (version {self.policy.version})")
        self.t.line(
            f"the clock runs fast: {clock_words(SPEED)} per real second; "
            f"times are the owner's ({self.policy.owner.timezone})"
        )

    async def _scenario(self) -> int:
        g = self.world.guild_id
        self._header()
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
            # The next digest always waits; the members' timers are the ones to fall due.
            return all(t.kind == TimerKind.DIGEST for t in await store.scheduled_timers())

        await until(timers_done, timeout=20)
        await self.settled()
        mentions_ok = await mention_kinds(self)
        await self.settled()
        code = await self._summary()
        if not mentions_ok:
            code = 1
        await self._before_the_digest()
        if not await owner_controls(self, DEMO_POLICY):
            code = 1
        if not await self._digest():
            code = 1
        return code

    async def _before_the_digest(self) -> None:
        """More for the digest: enough held reviews for two pages, and an early leaver."""
        g = self.world.guild_id
        self.t.heading("a wave of default-avatar accounts arrives; the rules hold them for review")
        for i in range(1, 12):
            await self.standin.join(
                g,
                username=f"wave_{i:02d}",
                joined_at=self.clock.now(),
                created_at=self.clock.now() - timedelta(days=8 + i),  # young, past 7 days
                avatar=None,
            )
        await self.settled()
        self.t.heading("regular_rae leaves soon after her follow-back")
        await self.standin.leave(g, self.ids["regular_rae"])
        await self.settled()

    async def _digest(self) -> bool:
        """The end: the owner's digest, asked for by hand, read in the DMs, page 2 turned to."""
        g, owner = self.world.guild_id, self.world.owner_id

        def digests() -> list[dict[str, Any]]:
            return [m for m in self.standin.dms_to(owner) if m.get("embeds")]

        before = len(digests())
        self.t.heading("the daily digest")
        self.t.line(f"the owner (user {owner}) asks for it now: /digest now")
        asked = await self.standin.slash(g, self.world.general_channel_id, owner, "digest now")
        await asked.wait_response(timeout=10)
        for said in await asked.wait_followups(1, timeout=10):
            self.t.line(f"the bot answers the owner: {said['content']}")

        async def arrived() -> bool:
            return len(digests()) > before

        if not await until(arrived, timeout=10):
            self.t.line("the digest did not arrive")
            return False
        message = digests()[-1]
        self._show_page(message)
        next_page = next(
            (c for c in _custom_ids(message) if c.startswith("digest:") and c.endswith(":1")), None
        )
        if next_page is None:
            self.t.line("the digest has one page: no page button to press")
            return False
        self.t.line(f"the owner presses › (custom_id {next_page}): the message turns to page 2")
        turned = await self.standin.click(
            int(message["channel_id"]), int(message["id"]), next_page, owner
        )
        shown = (await turned.wait_response(timeout=10)).get("data") or {}
        self._show_page(shown)
        return bool(shown.get("embeds"))

    def _show_page(self, message: dict[str, Any]) -> None:
        for embed in message.get("embeds") or []:
            self.t.line(f"  ## {embed.get('title', '')}")
            for text in str(embed.get("description", "")).splitlines():
                self.t.line(f"     {text}")
            footer = (embed.get("footer") or {}).get("text")
            if footer:
                self.t.line(f"     ({footer})")
        buttons = [
            b.get("label", "") for row in message.get("components") or [] for b in row["components"]
        ]
        if buttons:
            self.t.line(f"  buttons: {' | '.join(buttons)}")

    async def _summary(self) -> int:
        """What happened, from the same events as the transcript, checked against Discord."""
        assert self.running is not None
        store, g, tally = self.running.store, self.world.guild_id, self.tally
        self.t.heading("summary")
        role = self.world.follow_back_role_id
        named = sorted(tally.names.items(), key=lambda item: item[1])
        followed = [name for uid, name in named if role in self.standin.member_roles(g, uid)]
        dms = [(name, len(self.standin.dms_to(uid))) for uid, name in named]
        stored = await store.count_decisions(g)
        self.t.line(f"decisions: {tally.decisions} told, {stored} stored")
        self.t.line(f"holding the follow-back role: {', '.join(followed) or 'nobody'}")
        delivered = ", ".join(f"{name} ({count})" for name, count in dms if count)
        self.t.line(f"DMs delivered: {delivered or 'none'}")
        refused = [
            f"{tally.names[uid]} ({e.kind}, code {e.code})"
            for uid, events in tally.refused.items()
            for e in events
        ]
        self.t.line(f"refused by Discord (recorded): {', '.join(refused) or 'nothing'}")
        by_hand = sorted(tally.names[uid] for uid in tally.unfollowed_by_hand)
        self.t.line(f"unfollowed by the owner by hand (left so): {', '.join(by_hand) or 'nobody'}")
        gone = sorted(tally.names[uid] for uid in tally.left)
        self.t.line(f"left the server: {', '.join(gone) or 'nobody'}")
        pending = tally.pending_review()
        self.t.line(f"waiting for the owner's review: {', '.join(pending) or 'nobody'}")
        leftover = await store.events_without_decision()
        self.t.line(f"events without a decision: {leftover}")
        return 0 if leftover == 0 and stored == tally.decisions else 1


def _custom_ids(message: dict[str, Any]) -> list[str]:
    return [b["custom_id"] for row in message.get("components") or [] for b in row["components"]]


def _print_until_the_reader_leaves(line: str) -> None:
    """Print a transcript line; a closed pipe (`followback demo | head`) silences the rest."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        # The bus would log every later line's failure: send them nowhere instead.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run_demo(database: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord").setLevel(logging.ERROR)  # no voice-support chatter
    logging.getLogger("bot.service.outbox").setLevel(logging.ERROR)  # the transcript says it
    with tempfile.TemporaryDirectory(prefix="followback-demo-") as tmp:
        path = Path(database) if database else Path(tmp) / "demo.sqlite3"
        demo = Demo(path, _print_until_the_reader_leaves)
        code = asyncio.run(demo.run())
    print(f"\ndemo finished: exit {code}", file=sys.stderr)
    return code
