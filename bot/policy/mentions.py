"""Mention helpers around the rules: which rules read text, and who is never answered.

text_rules(policy): the mention rules that test the message text, so `followback run`
can name the rules that cannot match without the MESSAGE_CONTENT intent.
no_reply_reason(policy, mention): why a `reply` decision must not be sent (the
author is a bot, or is in the `replying.never_reply` list), or None.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.policy.facts import MemberFacts, MentionFacts
from bot.policy.model import Policy

_MAX_DEPTH = 50


class NoReply(StrEnum):
    """Why a mention that the rules would answer gets no reply (checked before sending)."""

    AUTHOR_BOT = "author_bot"
    NEVER_REPLY = "never_reply"


def text_rules(policy: Policy) -> list[str]:
    """Names of the mention rules whose condition tests the text (`text_matches`),
    directly or through named conditions, in policy order."""
    return [r.name for r in policy.mentions if reads_text(r.when, policy.conditions)]


def reads_text(when: Any, named: dict[str, Any], depth: int = 0) -> bool:
    """Whether a condition as written tests `text_matches` anywhere in it."""
    if when is None or depth > _MAX_DEPTH:
        return False
    if isinstance(when, str):
        return when in named and reads_text(named[when], named, depth + 1)
    if isinstance(when, list):
        return any(reads_text(v, named, depth + 1) for v in when)
    if not isinstance(when, dict):
        return False
    for key, value in when.items():
        if key == "text_matches":
            return True
        if key in ("all", "any", "not", "is") and reads_text(value, named, depth + 1):
            return True
    return False


def never_reply_to(policy: Policy, author: MemberFacts) -> bool:
    """Whether the author is in the `replying.never_reply` list (by id or username)."""
    name = policy.replying.never_reply
    if name is None:
        return False
    listed = {x.lower() for x in policy.lists.get(name, frozenset())}
    return str(author.id) in listed or author.username.lower() in listed


def no_reply_reason(policy: Policy, mention: MentionFacts) -> NoReply | None:
    """Why no auto-reply may go to this mention's author whatever the rules say, or None."""
    if mention.author.bot:
        return NoReply.AUTHOR_BOT  # two bots answering each other never ends
    if never_reply_to(policy, mention.author):
        return NoReply.NEVER_REPLY
    return None
