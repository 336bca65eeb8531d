"""What the services did, as typed events on a small in-process bus.

The services emit; readers (the demo's transcript, the `followback run` log, tests)
subscribe and turn events into words. Events hold references to data the pipeline
already has (the Decision, the member's facts, the matching Rule), so building one
costs an object, and nothing at all when nobody listens: emitters check
`EventBus.listening` first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from bot.policy import Decision, MemberFacts, Rule

log = logging.getLogger(__name__)


def member_label(display_name: str, username: str) -> str:
    """How events name a member: the name shown in the server, and the unique username."""
    return username if display_name == username else f"{display_name} ({username})"


class TimerOutcome(StrEnum):
    """What a timer did when it fell due; the value is what the store records."""

    FOLLOWED_LATE = "followed back (late)"
    ALREADY_FOLLOWED = "already followed"
    OWNER_UNFOLLOWED = "skipped: the owner unfollowed them by hand"
    ROLE_MISSING = "skipped: follow-back role not found"
    LEFT = "cancelled: left the server"
    EARLIER_STAY = "cancelled: from an earlier stay"
    DECIDED_AGAIN = "decided again after observing"
    ALREADY_DECIDED = "already decided again"


@dataclass(frozen=True, slots=True)
class BotStarted:
    """The client is connected and knows its intents; catch-up comes next."""

    policy_path: Path
    policy_version: str
    database: Path
    guild_ids: tuple[int, ...]  # empty: every guild the bot is in
    intents: tuple[str, ...]  # the gateway intents asked for, by discord.py's names


@dataclass(frozen=True, slots=True)
class PolicyReloaded:
    """An edit of the policy file is in force (a new version)."""

    path: Path
    version: str


@dataclass(frozen=True, slots=True)
class PolicyBroken:
    """An edit of the policy file has problems: the previous policy stays in force."""

    path: Path
    problems: str  # the loader's report: file, line, field per problem
    version_in_force: str


@dataclass(frozen=True, slots=True)
class DecisionMade:
    """A decision was stored (after its commit)."""

    at: datetime
    guild_id: int
    user_id: int
    member: str  # member_label(): the name shown in the server and the username
    decision: Decision  # action, rule, misses, due, reply/notify template
    observed: bool  # the second decision, after an observe window
    dm: str | None  # the reply template queued as a DM, None when no DM goes out
    rule: Rule | None  # the rule that matched as loaded; None when no rule matched
    facts: MemberFacts  # what the rule was tested against (for the why-words)
    timezone: str  # the owner's, for the due time


@dataclass(frozen=True, slots=True)
class MemberPending:
    """A member joined but has not passed membership screening: not decided yet."""

    at: datetime
    guild_id: int
    user_id: int
    member: str


@dataclass(frozen=True, slots=True)
class MemberLeft:
    at: datetime
    guild_id: int
    user_id: int
    member: str


@dataclass(frozen=True, slots=True)
class RoleChangedByHand:
    """The owner gave or took the follow-back role themselves (recorded, never undone)."""

    at: datetime
    guild_id: int
    user_id: int
    member: str
    followed: bool


@dataclass(frozen=True, slots=True)
class TimerFired:
    at: datetime
    guild_id: int
    user_id: int
    member: str
    kind: str  # "later" or "observe"
    outcome: TimerOutcome


@dataclass(frozen=True, slots=True)
class ActionDone:
    """An outbox row went out (a role change, a DM, a reply)."""

    at: datetime
    guild_id: int
    user_id: int
    member: str
    outbox_id: int
    kind: str  # the outbox row kind: add_role, remove_role, dm, reply
    text: str | None  # the message sent, for dm and reply


@dataclass(frozen=True, slots=True)
class ActionRefused:
    """An outbox row failed for good: refused, or given up after its retries (recorded)."""

    at: datetime
    guild_id: int
    user_id: int
    member: str
    outbox_id: int
    kind: str
    code: int | None  # Discord's JSON error code, when it gave one
    detail: str


@dataclass(frozen=True, slots=True)
class CatchUpDone:
    """What start-up found changed in a guild while the bot was offline."""

    at: datetime
    guild_id: int
    joins: int
    leaves: int
    screened: int
    roles_by_hand: int
    members: int | None = None  # in the guild's member list compared
    elapsed_ms: int | None = None  # the catch-up's own time


@dataclass(frozen=True, slots=True)
class DigestSent:
    """A digest was built and stored, and its first page queued (when it has pages)."""

    at: datetime
    snapshot_id: int
    local_date: date  # the owner's day it is for
    reason: str  # scheduled, missed (at start-up) or on_demand
    pages: int  # 0: an empty day skipped, as the policy says
    summary: str  # "3 pending reviews, 1 clean-up suggestion"


@dataclass(frozen=True, slots=True)
class OwnerActed:
    """The owner or a delegate acted by command or button (told once recorded)."""

    at: datetime
    actor_id: int
    action: str  # approve, decline, follow, unfollow, list_add, list_remove, pause, resume
    member: str | None = None  # member_label(), when the action is about a member
    detail: str = ""  # the list and entry of a list edit


@dataclass(frozen=True, slots=True)
class MentionDecided:
    """A mention (of the owner or the bot, or a reply to the owner) stored with its decision."""

    at: datetime
    guild_id: int
    user_id: int  # the author
    member: str  # member_label() of the author
    message_id: int
    channel: str  # "#general", "#help (thread in #support)"
    action: str  # reply, notify, ignore
    rule: str
    template: str | None  # the reply template, for reply
    status: str  # MentionStatus: waiting, listed, ignored, skipped, too_old
    outcome: str | None  # why no reply goes (skipped, too_old)
    wait_until: datetime | None  # waiting: the reply goes then unless the owner answers
    explanation: str  # why the rule matched, and why the earlier ones did not
    source: str  # live or catch_up


@dataclass(frozen=True, slots=True)
class ReplySkipped:
    """A reply that waited was not sent: the owner answered, the message went, a limit."""

    at: datetime
    guild_id: int
    user_id: int
    member: str
    message_id: int
    status: str  # MentionStatus: owner_answered, deleted, skipped
    reason: str


Event = (
    BotStarted
    | PolicyReloaded
    | PolicyBroken
    | DecisionMade
    | MemberPending
    | MemberLeft
    | RoleChangedByHand
    | TimerFired
    | ActionDone
    | ActionRefused
    | CatchUpDone
    | MentionDecided
    | ReplySkipped
    | DigestSent
    | OwnerActed
)
Subscriber = Callable[[Event], None]


class EventBus:
    """Synchronous dispatch to every subscriber; a failing subscriber is logged, never raised."""

    __slots__ = ("_subscribers",)

    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()

    @property
    def listening(self) -> bool:
        """False when nobody subscribes: then emitters skip building the event."""
        return bool(self._subscribers)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a reader; returns the function that removes it again."""
        self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def emit(self, event: Event) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                # A reader's bug must never break the pipeline that emitted.
                log.exception("event subscriber %r failed on %s", subscriber, type(event).__name__)
