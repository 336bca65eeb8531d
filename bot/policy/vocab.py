"""The words of the condition grammar, shared by the compiler and the schema."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

from bot.policy.decision import Miss
from bot.policy.facts import BOOL_FIELDS, COUNT_FIELDS
from bot.policy.model import Check
from bot.policy.yamltree import Node

Report = Callable[[Node, str, str], None]

BOOL_FACTS = BOOL_FIELDS
COUNT_FACTS = COUNT_FIELDS
AGE_FACTS = {"account_age": "created_at", "in_server": "joined_at"}
NAME_FACTS = {
    "name_matches": ("nick", "global_name", "username"),
    "username_matches": ("username",),
    "nick_matches": ("nick",),
    "global_name_matches": ("global_name",),
}
OTHER_FACTS = ("name_like", "roles", "has_role", "in_list", "surge")
MENTION_FACTS = ("text_matches", "mentions_owner", "mentions_bot", "replies_to_owner", "channel")
# What a text rule reads without the MESSAGE_CONTENT intent: unknown, never "".
TEXT_UNKNOWN = "unknown (no message-content intent)"
CACHE_SIZE = 4096  # per compiled check: bounded memory however many members pass
COMBINATORS = ("all", "any", "not", "is")
COUNT_OPS = ("at_least", "at_most", "under", "over", "equals")
AGE_OPS = ("under", "at_least", "over", "at_most")
ALL_KEYS = (
    *COMBINATORS,
    *BOOL_FACTS,
    *COUNT_FACTS,
    *AGE_FACTS,
    *NAME_FACTS,
    *OTHER_FACTS,
    *MENTION_FACTS,
)
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "at_least": lambda a, b: a >= b,
    "at_most": lambda a, b: a <= b,
    "under": lambda a, b: a < b,
    "over": lambda a, b: a > b,
    "equals": lambda a, b: a == b,
}


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def brief(data: Any) -> str:
    """A condition as written, on one line: {bot: true} -> "bot: true"."""
    if isinstance(data, Node):
        return brief(data.plain())  # never a Node's repr in a user's message
    if isinstance(data, dict):
        inner = ", ".join(f"{k}: {brief(v)}" for k, v in data.items())
        return inner if len(data) == 1 else "{" + inner + "}"
    if isinstance(data, list):
        return "[" + ", ".join(brief(v) for v in data) + "]"
    if isinstance(data, bool):
        return "true" if data else "false"
    if data is None:
        return "null"
    return str(data)


def never(rule: str, path: str) -> Check:
    # Only used while reporting problems: the policy never loads, so never runs.
    miss = Miss(rule, path, "invalid")
    return lambda f, now: miss
