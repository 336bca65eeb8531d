"""Misses in plain words, the same in `explain`, the digest and the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: decision.py imports this module
    from bot.policy.decision import Miss

OPS = {
    "under": "under",
    "at_least": "at least",
    "at_most": "at most",
    "over": "over",
    "equals": "exactly",
}
_SUBJECTS = {
    "nick_matches": "nickname",
    "global_name_matches": "global name",
    "username_matches": "username",
    "text_matches": "text",
}


def miss_words(miss: Miss) -> str:
    """A Miss in plain words: "rule 'bots' did not match: bot is false (needs true)"."""
    return f"rule {miss.rule!r} did not match: {_words(miss)}"


def miss_phrase(miss: Miss) -> str:
    """The words after "did not match: ", alone: "bot is false (needs true)"."""
    return _words(miss)


def _words(miss: Miss) -> str:
    if miss.unknown and not miss.parts:
        return f"text unknown (no message-content intent), so {miss.condition} cannot be tested"
    if miss.condition.startswith("is: ") and miss.parts:
        return f"{miss.condition[4:]!r} does not hold: {_words(miss.parts[0])}"
    if miss.parts:
        return "none of these held: " + "; ".join(_words(p) for p in miss.parts)
    if miss.condition.startswith("not "):
        inner = miss.condition[4:]
        inner = repr(inner[4:]) if inner.startswith("is: ") else inner
        return f"{inner} holds (the rule needs it not to)"
    cond, sep, needs = miss.condition.partition(": ")
    if not sep or " " in cond:
        return f"{miss.condition} (was {miss.actual})"
    fact, _, op = cond.partition(".")
    if cond == "channel":
        wants = f"one of {needs.strip('[]')}" if needs.startswith("[") else needs
        return f"channel is {miss.actual} (needs {wants})"
    if cond == "in_list":
        return f"not in list {needs!r} (by id or username)"
    if fact in ("name_matches", "name_like"):
        verb = "matches" if fact == "name_matches" else "looks like"
        return f"no name {verb} {needs}: {miss.actual}"
    if fact.endswith("_matches"):
        subject = _SUBJECTS.get(fact, fact.removesuffix("_matches"))
        return f"{subject} is {miss.actual} (needs to match {needs})"
    if fact == "surge":
        return f"{miss.actual} (needs {op.removeprefix('joins.').replace('_', ' ')} {needs})"
    if fact in ("has_role", "roles"):
        have = "has no roles" if miss.actual == "no roles" else f"has roles {miss.actual}"
        wants = {"all": "all of", "none": "none of"}.get(op, "one of")
        return f"{have} (needs {wants} {needs.strip('[]')})"
    if op in OPS:
        needs = f"{OPS[op]} {needs}"
    return f"{fact} is {miss.actual} (needs {needs})"


def no_reply_words(reason: str, never_reply_list: str | None = None) -> str:
    """Why a reply decision is not sent, for `explain` and the log."""
    if reason == "author_bot":
        return "no reply is sent: the author is a bot (bots never get auto-replies)"
    if reason == "never_reply":
        return f"no reply is sent: the author is in the never-reply list {never_reply_list!r}"
    return f"no reply is sent: {reason}"
