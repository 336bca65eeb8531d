"""What the engine returns. A contract shared with the store and the Discord layer.

Fields may be added (with defaults); existing names must not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.policy.words import miss_words


class Action(StrEnum):
    FOLLOW_BACK = "follow_back"
    LATER = "later"
    OBSERVE = "observe"
    REVIEW = "review"
    DECLINE = "decline"
    IGNORE = "ignore"


class MentionAction(StrEnum):
    REPLY = "reply"  # answer in the channel with a reply template (thank, away notice, ...)
    NOTIFY = "notify"  # goes to the owner's digest
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class Miss:
    """Why one earlier rule did not match: its first failing condition."""

    rule: str
    condition: str  # the condition as written, e.g. "account_age.under: 7d"
    actual: str  # the fact's actual value, rendered for people, e.g. "30d"
    parts: tuple[Miss, ...] = ()  # for `any`: why each alternative failed
    # Not false but unknown (a text rule without the message-content intent): `not`
    # of an unknown stays unknown, so such a rule never matches by default.
    unknown: bool = False

    def __str__(self) -> str:
        return f"{self.rule!r} did not match: {self.condition} (was {self.actual})"


@dataclass(frozen=True, slots=True)
class Decision:
    rule: str
    action: Action
    misses: tuple[Miss, ...] = ()
    due: datetime | None = None  # later: when to follow back; observe: when to decide again
    reply: str | None = None  # decline: reply template name (None = silent)
    notify: str | None = None  # later: template announcing the late follow-back
    policy_version: str = ""

    def explain(self, matched: str | None = None) -> str:
        """Plain words: the decision, the rule, why it matched (when `matched` is given:
        match_words() of the rule) and why each earlier rule did not match."""
        lines = [f"decision: {self.action.value} (rule {self.rule!r})"]
        if matched is not None:
            lines.append(f"matched: {matched}")
        if self.due is not None:
            lines.append(f"due: {self.due.isoformat()}")
        lines.extend(f"  - {miss_words(miss)}" for miss in self.misses)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class MentionDecision:
    rule: str
    action: MentionAction
    misses: tuple[Miss, ...] = ()
    reply: str | None = None  # template name for REPLY
    policy_version: str = ""
