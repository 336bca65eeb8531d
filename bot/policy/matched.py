"""Why a rule matched, with the member's actual values: "account_age is 2d (under 7d)".

The words mirror the misses' (words.py), so `policy explain`, the demo and the live
bot's log say the same thing. Only explanations pay for this: decide() never calls
it, and each rule's sub-conditions are compiled on first use, then kept.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

from bot.policy.conditions import Compiler, _age_text
from bot.policy.durations import format_duration, parse_duration
from bot.policy.matchers import NAME_LABELS, channel_shown, quoted
from bot.policy.model import Check, Rule
from bot.policy.patterns import Matcher, compile_regex, compile_wildcards
from bot.policy.vocab import AGE_FACTS, BOOL_FACTS, COUNT_FACTS, MENTION_FACTS, NAME_FACTS, brief
from bot.policy.words import OPS, miss_phrase
from bot.policy.yamltree import Node

Why = Callable[[Any, datetime], str]

CATCH_ALL = "no conditions (the rule takes everyone it reaches)"


def match_words(rule: Rule, facts: Any, now: datetime) -> str:
    """Why `rule` matched `facts` at `now`: "account_age is 2d (under 7d)".

    Shown after "matched: " by `policy explain`; the live bot can do the same with
    the Rule and the facts it decided on. For a rule that does not hold for these
    facts, the words end with "(does not hold now)".
    """
    if rule.when is None:
        return CATCH_ALL
    if rule.why is None:  # a Rule built by hand, not by the loader
        return brief(rule.when)
    return rule.why(facts, now)


class Describer:
    """Builds the words for holding conditions; one per policy and rule kind."""

    def __init__(
        self, lists: dict[str, frozenset[str]], named: dict[str, Node], mention: bool
    ) -> None:
        self.compiler = Compiler(_ignore, lists, named, mention)
        self.named, self.mention = named, mention
        self._checks: dict[int, tuple[Node, Check]] = {}  # id(node) -> compiled, node kept

    def why(self, node: Node, rule: str) -> Why:
        def words(facts: Any, now: datetime) -> str:
            said = self.words(node, rule, facts, now)
            return said if said is not None else f"{brief(node.plain())} (does not hold now)"

        return words

    # --- conditions ---------------------------------------------------------
    def check(self, node: Node, rule: str) -> Check:
        hit = self._checks.get(id(node))
        if hit is None:
            hit = (node, self.compiler.compile(node, "", rule))
            self._checks[id(node)] = hit
        return hit[1]

    def words(self, node: Node, rule: str, f: Any, now: datetime) -> str | None:
        """The words for a condition that holds, or None when it does not."""
        value = node.value
        if isinstance(value, str) and value in self.named:
            return self._named(value, rule, f, now)
        if not isinstance(value, dict):
            return None
        parts = []
        for key, sub in value.items():
            part = self._key(key, sub, node, rule, f, now)
            if part is None:
                return None
            parts.append(part)
        return " and ".join(parts)

    def _named(self, name: str, rule: str, f: Any, now: datetime) -> str | None:
        inner = self.words(self.named[name], rule, f, now)
        return None if inner is None else f"{name!r} holds: {inner}"

    def _key(
        self, key: str, sub: Node, parent: Node, rule: str, f: Any, now: datetime
    ) -> str | None:
        if key == "all":
            parts = [self.words(n, rule, f, now) for n in sub.value]
            return None if None in parts else " and ".join(p for p in parts if p)
        if key == "any":
            for n in sub.value:
                if self.check(n, rule)(f, now) is None:
                    return self.words(n, rule, f, now)
            return None
        if key == "not":
            miss = self.check(sub, rule)(f, now)
            if miss is None or miss.unknown:
                return None
            if isinstance(sub.value, str) or (isinstance(sub.value, dict) and "is" in sub.value):
                name = sub.value if isinstance(sub.value, str) else sub.value["is"].value
                return f"{name!r} does not hold"  # its own reasons are one explain away
            return f"not ({brief(sub.plain())}): {miss_phrase(miss)}"
        if key == "is":
            return self._named(sub.value, rule, f, now)
        leaf = Node({key: sub}, parent.line, parent.col, {key: parent.keys.get(key, sub)})
        if self.check(leaf, rule)(f, now) is not None:
            return None
        pre = "author." if self.mention and key not in MENTION_FACTS else ""
        return self._leaf(key, sub.plain(), pre, f, now)

    def _leaf(self, key: str, spec: Any, pre: str, f: Any, now: datetime) -> str:
        """A holding fact in words, with the member's value; its truth is already checked."""
        if key == "channel":
            return f"channel is {channel_shown(f)} ({brief({key: spec})})"
        if key in BOOL_FACTS or (key in MENTION_FACTS and key != "text_matches"):
            return f"{key} is {_yes(attrgetter(pre + key)(f))}"
        if key in COUNT_FACTS:
            return f"{key} is {attrgetter(pre + key)(f)} ({_ops(spec, age=False)})"
        if key in AGE_FACTS:
            age = now - attrgetter(pre + AGE_FACTS[key])(f)
            return f"{key} is {_age_text(age)} ({_ops(spec, age=True)})"
        if key in NAME_FACTS or key in ("name_like", "text_matches"):
            return _text_hit(key, spec, pre, f)
        who = attrgetter(pre[:-1])(f) if pre else f
        if key in ("roles", "has_role"):
            return _roles_hit(key, spec, who.roles)
        if key == "in_list":
            listed = {x.lower() for x in self.compiler.lists[spec]}
            return f"in list {spec!r} (by {'id' if str(who.id) in listed else 'username'})"
        return _surge_hit(spec, pre, f, now)


def _ignore(node: Node, path: str, message: str) -> None:
    """The policy loaded, so its conditions compile without problems a second time."""


def _yes(value: object) -> str:
    return "true" if value else "false"


def _ops(spec: Any, age: bool) -> str:
    if isinstance(spec, bool):
        return "at least 1" if spec else "exactly 0"
    if isinstance(spec, int):
        return f"exactly {spec}"
    shown = (format_duration(parse_duration(v)) if age else v for v in spec.values())
    return ", ".join(f"{OPS[op]} {v}" for op, v in zip(spec, shown, strict=True))


def _roles_hit(key: str, spec: Any, have: frozenset[str]) -> str:
    if key == "has_role" or isinstance(spec, list):
        mode, wanted = "any", spec
    else:
        mode, wanted = next(iter(spec.items()))
    names = {str(n) for n in (wanted if isinstance(wanted, list) else [wanted])}
    if mode == "none":
        held = ", ".join(sorted(have)) or "no roles"
        return f"has none of {', '.join(sorted(names))} (has {held})"
    return f"has {'roles' if mode == 'all' else 'role'} {', '.join(sorted(names & have))}"


def _text_hit(key: str, spec: Any, pre: str, f: Any) -> str:
    patterns = spec if isinstance(spec, list) else [spec]
    if key == "text_matches":
        attrs: tuple[str, ...] = ("text",)
    else:
        attrs = NAME_FACTS.get(key, NAME_FACTS["name_matches"])
    for attr in attrs:
        value = attrgetter(pre + attr)(f)
        if not value and not (key == "text_matches" and value == ""):
            continue
        for pattern in patterns:
            if key == "name_like":
                if _glob(pattern)(value):
                    return f"{NAME_LABELS[attr]} {quoted(value)} looks like '{pattern}'"
            elif _regex(pattern)(value):
                label = NAME_LABELS.get(attr, attr)
                return f"{label} {quoted(value)} matches '{pattern}'"
    return brief({key: spec})


@lru_cache(maxsize=512)
def _regex(pattern: str) -> Matcher:
    return compile_regex(pattern)


@lru_cache(maxsize=512)
def _glob(pattern: str) -> Matcher:
    return compile_wildcards([pattern])


def _surge_hit(spec: Any, pre: str, f: Any, now: datetime) -> str:
    within = parse_duration(spec["within"])
    joins = attrgetter(pre + "recent_joins")(f)
    count = bisect_right(joins, now) - bisect_left(joins, now - within)
    return f"{count} joins within {format_duration(within)} ({_ops(spec['joins'], age=False)})"
