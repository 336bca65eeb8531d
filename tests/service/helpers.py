"""Shared parts for the service tests: a real policy, a real store, two small fakes.

The fakes stand in only where nothing real can: the Discord side of the outbox
(`ActionGateway`) and the guild directory (`Directory`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bot.policy import load_policy_text
from bot.service.events import Event, EventBus
from bot.service.followers import FollowerService
from bot.service.planning import Hooks
from bot.service.policy_holder import PolicyHolder
from bot.service.timers import TimerResult
from bot.store import TimerKind, TimerRow, UserInfo

E = TypeVar("E")

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # a Sunday; 13:00 in Berlin
GUILD = 1000
ROLE = 4242
OWNER = 1
BOT = 2

# A name prefix picks the decision, so each test asks for exactly what it needs.
POLICY_TEXT = """\
version: 1
owner: {timezone: Europe/Berlin, digest_at: "09:00"}
follow_back: {role: Mutuals}
replies:
  late_notice:
    dm: true
    variants: ["Hi {name}, I follow back late: around {due}."]
  late_quiet:
    variants: ["Hi {name}, later."]
  decline_dm:
    dm: true
    variants: ["Thanks {name}, no follow-back for now."]
  decline_quiet:
    - "Thanks {name}."
rules:
  - name: engaged after a look
    when: {all: [{observed: true}, {messages: {at_least: 2}}]}
    then: follow_back
  - name: quiet after a look
    when: {observed: true}
    then: {decline: {reply: decline_dm}}
  - name: follow now
    when: {username_matches: "^fb_"}
    then: follow_back
  - name: late
    when: {username_matches: "^later_"}
    then: {later: {after: 2h, notify: late_notice}}
  - name: late quietly
    when: {username_matches: "^laterq_"}
    then: {later: {after: 2h, notify: late_quiet}}
  - name: observe
    when: {username_matches: "^observe_"}
    then: {observe: 2h}
  - name: decline
    when: {username_matches: "^decline_"}
    then: {decline: {reply: decline_dm}}
  - name: decline silently
    when: {username_matches: "^quiet_"}
    then: {decline: {reply: decline_quiet}}
  - name: everyone else
    then: ignore
limits: {dms_per_day: 40, dm_spacing: 1s, dm_cooldown: 1d}
"""


def write_policy(path: Path, text: str = POLICY_TEXT) -> PolicyHolder:
    path.write_text(text, encoding="utf-8")
    return PolicyHolder(path, load_policy_text(text, str(path)))


def user(
    user_id: int,
    username: str,
    *,
    bot: bool = False,
    created_at: datetime = T0 - timedelta(days=400),
) -> UserInfo:
    return UserInfo(user_id=user_id, username=username, bot=bot, created_at=created_at)


@dataclass
class FakeDirectory:
    """The guild as the Discord layer would describe it: role names to ids, member roles."""

    roles: dict[tuple[int, str], int] = field(default_factory=lambda: {(GUILD, "Mutuals"): ROLE})
    member_role_names: dict[tuple[int, int], frozenset[str]] = field(default_factory=dict)
    unknown_guilds: set[int] = field(default_factory=set)  # not streamed in yet

    def guild_known(self, guild_id: int) -> bool:
        return guild_id not in self.unknown_guilds

    def role_id(self, guild_id: int, name_or_id: str) -> int | None:
        return self.roles.get((guild_id, name_or_id))

    def member_roles(self, guild_id: int, user_id: int) -> frozenset[str]:
        return self.member_role_names.get((guild_id, user_id), frozenset())


@dataclass
class Call:
    kind: str
    user_id: int
    args: tuple[object, ...]


@dataclass
class RecordingGateway:
    """Records every call; raises the queued ActionFailed for a kind when asked to."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    roles_held: set[tuple[int, int, int]] = field(default_factory=set)
    next_message_id: int = 900

    def fail(self, kind: str, *errors: Exception) -> None:
        self.failures.setdefault(kind, []).extend(errors)

    def _maybe_fail(self, kind: str) -> None:
        queued = self.failures.get(kind)
        if queued:
            raise queued.pop(0)

    def of(self, kind: str) -> list[Call]:
        return [call for call in self.calls if call.kind == kind]

    async def add_role(self, guild_id: int, user_id: int, role_id: int, reason: str) -> None:
        self.calls.append(Call("add_role", user_id, (guild_id, role_id, reason)))
        self._maybe_fail("add_role")
        self.roles_held.add((guild_id, user_id, role_id))

    async def remove_role(self, guild_id: int, user_id: int, role_id: int, reason: str) -> None:
        self.calls.append(Call("remove_role", user_id, (guild_id, role_id, reason)))
        self._maybe_fail("remove_role")
        self.roles_held.discard((guild_id, user_id, role_id))

    async def has_role(self, guild_id: int, user_id: int, role_id: int) -> bool:
        self.calls.append(Call("has_role", user_id, (guild_id, role_id)))
        self._maybe_fail("has_role")
        return (guild_id, user_id, role_id) in self.roles_held

    async def send_dm(self, user_id: int, text: str, nonce: str) -> int:
        self.calls.append(Call("dm", user_id, (text, nonce)))
        self._maybe_fail("dm")
        self.next_message_id += 1
        return self.next_message_id

    async def send_reply(
        self, channel_id: int, message_id: int, text: str, nonce: str, *, silent: bool = False
    ) -> int:
        self.calls.append(Call("reply", 0, (channel_id, message_id, text, nonce)))
        self._maybe_fail("reply")
        self.next_message_id += 1
        return self.next_message_id


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until `check` holds; fail clearly (never hang) otherwise."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)


@dataclass
class HookLog:
    """What the pipeline asked of its hooks, and the events it emitted."""

    wakes: int = 0
    timers: list[datetime] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def hooks(self) -> Hooks:
        def wake() -> None:
            self.wakes += 1

        return Hooks(wake_outbox=wake, schedule_timer=self.timers.append)

    def bus(self) -> EventBus:
        bus = EventBus()
        bus.subscribe(self.events.append)
        return bus

    def of(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]


async def timer_due(service: FollowerService, timer: TimerRow) -> TimerResult:
    """Hand a timer to the follower service's handler for its kind, as the scheduler does."""
    if timer.kind == TimerKind.LATER:
        return await service.late_follow_back_due(timer)
    return await service.observe_window_due(timer)
