"""The loaded policy: frozen data plus the predicates compiled from it."""

from __future__ import annotations

import contextlib
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from bot.policy.decision import Action, MentionAction, Miss
from bot.policy.durations import parse_duration

# A compiled condition: None when it holds, else the Miss naming what failed.
Check = Callable[[Any, datetime], Miss | None]

PLACEHOLDERS = frozenset({"name", "due", "owner"})


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    """Several wordings of one reply; `dm: true` allows sending it as a direct message,
    `silent: true` sends it as a silent message (no push notification)."""

    name: str
    variants: tuple[str, ...]
    dm: bool = False
    silent: bool = False


def template_problem(text: str) -> str | None:
    """Why a reply text cannot be rendered (broken braces, unknown placeholder), or None."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"broken braces in {text!r}: {exc} (write {{{{ and }}}} for literal braces)"
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if field_name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            return f"unknown placeholder {{{field_name}}} (known: {known})"
        if spec or conversion:
            return f"placeholder {{{field_name}}} takes no format or conversion"
    return None


def _defuse(value: str) -> str:
    # A name like "@everyone" must never turn a reply into a mass ping.
    return value.replace("@", "@\u200b")


def render_reply(template: ReplyTemplate, variant: int, **values: str) -> str:
    """Fill variant `variant % len(variants)` with {name}, {due}, {owner} (missing -> "")."""
    text = template.variants[variant % len(template.variants)]
    filled = {p: _defuse(str(values.get(p, ""))) for p in PLACEHOLDERS}
    return text.format_map(filled)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
EVERY_DAY = frozenset(range(7))


class EmptyDigest(StrEnum):
    """What a day with nothing for the owner gets (`owner.digest_when_empty`)."""

    SKIP = "skip"  # no message at all
    ONE_LINE = "one_line"  # a single line saying so


@dataclass(frozen=True, slots=True)
class Owner:
    timezone: str = "UTC"
    digest_at: time = time(9, 0)
    name: str | None = None  # how replies say {owner}; None lets the bot use its own default
    digest_days: frozenset[int] = EVERY_DAY  # date.weekday() numbers, Monday = 0
    digest_when_empty: EmptyDigest = EmptyDigest.SKIP
    # the digest suggests clean-up for members followed back this long ago and silent since
    cleanup_after: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Limits:
    dms_per_day: int = 20
    dm_spacing: timedelta = timedelta(minutes=2)
    dm_cooldown: timedelta = timedelta(days=7)  # per person
    reply_cooldown: timedelta = timedelta(hours=24)  # per person, mention auto-replies


@dataclass(frozen=True, slots=True)
class StatusCommand:
    """The member-facing `/followback status` (the `status_command:` section): off unless
    enabled; each text may use {name} and {due}."""

    enabled: bool = False
    followed: str = "You're followed back, {name}."
    later: str = "I'll follow you back around {due}."
    review: str = "I haven't decided yet, {name}; I take my time."
    nothing: str = "Nothing to tell you yet, {name}."


@dataclass(frozen=True, slots=True)
class Replying:
    """How mention auto-replies behave (the `replying:` section)."""

    reply_after: timedelta = timedelta(minutes=2)  # wait; the owner answering first cancels
    channel_budget: int = 5  # at most this many auto-replies per channel per hour
    never_reply: str | None = None  # a list in `lists:` whose people never get a reply
    catch_up: timedelta = timedelta(hours=24)  # at start, look back this far for mentions
    catch_up_pages: int = 5  # ... reading at most this many pages per channel
    reply_max_age: timedelta = timedelta(hours=6)  # older mentions are listed, not answered


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a rule does when it matches (`then`)."""

    action: Action | MentionAction
    delay: timedelta | None = None  # later (fixed), observe
    window: tuple[timedelta, timedelta] | None = None  # later (random window)
    reply: str | None = None  # decline / mention reply template
    notify: str | None = None  # later: template announcing the late follow-back

    def describe(self) -> str:
        from bot.policy.durations import format_duration as fd

        extra = ""
        if self.window is not None:
            extra = f" between {fd(self.window[0])} and {fd(self.window[1])}"
        elif self.delay is not None:
            extra = f" {fd(self.delay)}"
        if self.reply:
            extra += f" (reply {self.reply})"
        if self.notify:
            extra += f" (notify {self.notify})"
        return self.action.value + extra


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    then: Outcome
    when: Any = None  # the condition as written (plain data); None = catch-all
    line: int = 0
    check: Check | None = field(default=None, compare=False, repr=False)
    # Why it matched, in words with the actual values (see matched.match_words).
    why: Callable[[Any, datetime], str] | None = field(default=None, compare=False, repr=False)
    column: int = 0


@dataclass(frozen=True, slots=True)
class Example:
    """An example from the file: a member (or mention) and what the policy must decide."""

    kind: str  # "member" or "mention"
    spec: dict[str, Any]  # as written
    facts: Any  # MemberFacts or MentionFacts, built at EXAMPLE_NOW
    rule: str | None
    action: str | None
    reply: str | None = None
    line: int = 0
    index: int = 0

    @property
    def label(self) -> str:
        author = self.spec.get("author")
        who = self.spec.get("name") or self.spec.get("text") or self.spec.get("username")
        if not who and isinstance(author, dict):
            who = author.get("name", "")
        return f"examples[{self.index}] (line {self.line}, {self.kind} {str(who)[:40]!r})"


@dataclass(frozen=True, slots=True)
class Policy:
    version: str  # first 12 hex of sha256 of the file text
    source: str
    owner: Owner
    follow_back_role: str
    rules: tuple[Rule, ...]
    follower_role: str | None = None
    lists: dict[str, frozenset[str]] = field(default_factory=dict)
    replies: dict[str, ReplyTemplate] = field(default_factory=dict)
    mentions: tuple[Rule, ...] = ()
    limits: Limits = field(default_factory=Limits)
    replying: Replying = field(default_factory=Replying)
    status_command: StatusCommand = field(default_factory=StatusCommand)
    examples: tuple[Example, ...] = ()
    conditions: dict[str, Any] = field(default_factory=dict)  # named conditions as written
    schema_version: int = 1

    @property
    def surge_window(self) -> timedelta | None:
        """The longest `surge.within` in any rule, or None: then joins need no counting."""
        written = [rule.when for rule in (*self.rules, *self.mentions)]
        windows = list(_surge_windows([*written, *self.conditions.values()]))
        return max(windows) if windows else None

    @property
    def uses_roles(self) -> bool:
        """Whether any rule tests roles (else the bot need not gather them)."""
        written = [rule.when for rule in (*self.rules, *self.mentions)]
        return _mentions_key([*written, *self.conditions.values()], ("roles", "has_role"))


def _mentions_key(node: Any, keys: tuple[str, ...]) -> bool:
    if isinstance(node, dict):
        return any(key in node for key in keys) or any(
            _mentions_key(value, keys) for value in node.values()
        )
    if isinstance(node, list | tuple):
        return any(_mentions_key(value, keys) for value in node)
    return False


def _surge_windows(node: Any) -> Iterator[timedelta]:
    if isinstance(node, dict):
        surge = node.get("surge")
        if isinstance(surge, dict) and isinstance(surge.get("within"), str):
            with contextlib.suppress(ValueError):
                yield parse_duration(surge["within"])
        for value in node.values():
            yield from _surge_windows(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _surge_windows(value)
