"""Misses in plain words, the same in `explain`, the digest and the store."""

from __future__ import annotations

from datetime import time, timedelta
from typing import TYPE_CHECKING

from bot.policy.durations import format_duration

if TYPE_CHECKING:  # annotations only: decision.py imports this module
    from bot.policy.changes import PolicyChanges
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


def describe_changes(changes: PolicyChanges) -> list[str]:
    """A policy change in plain lines, for the owner's DM and the run log."""
    if changes.empty:
        return ["no change in behaviour (comments or layout only)"]
    lines: list[str] = []
    for label, rules in (("rule", changes.rules), ("mention rule", changes.mentions)):
        for verb, names in (
            ("added", rules.added),
            ("removed", rules.removed),
            ("changed", rules.changed),
        ):
            if names:
                lines.append(f"{label}s {verb}: {_names(names)}")
        if rules.reordered:
            lines.append(f"{label}s reordered (the first match still wins)")
    for lc in changes.lists:
        if lc.created:
            lines.append(f"list {lc.name!r} added ({_count(len(lc.added), 'entry')})")
        elif lc.deleted:
            lines.append(f"list {lc.name!r} removed")
        else:
            parts = [f"+{x}" for x in lc.added] + [f"-{x}" for x in lc.removed]
            lines.append(f"list {lc.name!r}: {', '.join(parts)}")
    for verb, names in (
        ("added", changes.replies_added),
        ("removed", changes.replies_removed),
        ("changed", changes.replies_changed),
    ):
        if names:
            lines.append(f"replies {verb}: {_names(names)}")
    if changes.conditions_changed:
        lines.append(f"named conditions changed: {_names(changes.conditions_changed)}")
    for s in changes.settings:
        where = f"{s.section}.{s.key}" if s.key else s.section
        lines.append(f"{where}: {_value(s.old)} -> {_value(s.new)}")
    return lines


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(repr(n) for n in names)


def _count(n: int, word: str) -> str:
    return (
        f"{n} {word}" if n == 1 else f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"
    )


def _value(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, frozenset | set):
        return "[" + ", ".join(str(v) for v in sorted(value, key=str)) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
