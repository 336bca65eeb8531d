"""Compile `when:` conditions into fast predicates, once, at load time.

A compiled check takes (facts, now) and returns None when the condition holds,
else a Miss naming the condition as written and the actual value. Misses for
yes/no facts and small counts are built once and reused, so explanations cost
little. Name, role, list and surge matching live in matchers.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from bot.policy.decision import Miss
from bot.policy.durations import format_duration, shape
from bot.policy.matchers import Matchers
from bot.policy.model import Check
from bot.policy.vocab import (
    _CMP,
    AGE_FACTS,
    AGE_OPS,
    ALL_KEYS,
    BOOL_FACTS,
    CACHE_SIZE,
    COUNT_FACTS,
    COUNT_OPS,
    MENTION_FACTS,
    NAME_FACTS,
    TEXT_UNKNOWN,
    Report,
    brief,
    did_you_mean,
    never,
)
from bot.policy.yamltree import Node

__all__ = ["Compiler", "brief", "did_you_mean"]


def _yes(value: object) -> str:
    return "true" if value else "false"


class Compiler(Matchers):
    def __init__(
        self,
        report: Report,
        lists: dict[str, frozenset[str]],
        named: dict[str, Node],
        mention: bool = False,
    ) -> None:
        self.report = report
        self.lists = lists
        self.named = named
        self.mention = mention
        self._stack: list[str] = []

    # --- entry -----------------------------------------------------------
    def compile(self, node: Node, path: str, rule: str) -> Check:
        value = node.value
        if isinstance(value, str) and value in self.named:
            return self._named(node, path, rule)  # `when: trusted` = `when: {is: trusted}`
        if not isinstance(value, dict) or not value:
            self.report(node, path, "a condition is a mapping such as {bot: true}")
            return never(rule, path)
        checks = [self._key(key, node, path, rule) for key in value]
        if len(checks) == 1:
            return checks[0]
        return _all(checks)

    def _key(self, key: str, parent: Node, path: str, rule: str) -> Check:
        node, where = parent.value[key], f"{path}.{key}"
        allowed = ALL_KEYS if self.mention else tuple(k for k in ALL_KEYS if k not in MENTION_FACTS)
        if key not in allowed:
            if key in MENTION_FACTS:
                msg = f"{key!r} only applies to mentions rules"
            else:
                msg = f"unknown condition {key!r}{did_you_mean(key, allowed)}"
            self.report(parent.keys[key], where, msg)
            return never(rule, where)
        pre = "author." if self.mention and key not in MENTION_FACTS else ""
        if key in ("all", "any"):
            return self._combine(key, node, where, rule)
        if key == "not":
            inner = self.compile(node, where, rule)
            shown = f"not {brief(node.plain())}"
            miss = Miss(rule, shown, "it holds")
            unknown = Miss(rule, shown, TEXT_UNKNOWN, unknown=True)

            def not_(f: Any, now: datetime) -> Miss | None:
                got = inner(f, now)
                if got is None:
                    return miss
                return unknown if got.unknown else None

            return not_
        if key == "is":
            return self._named(node, where, rule)
        if key in BOOL_FACTS or key in ("mentions_owner", "mentions_bot", "replies_to_owner"):
            return self._bool(key, pre + key, node, where, rule)
        if key in COUNT_FACTS:
            return self._count(key, attrgetter(pre + key), node, where, rule)
        if key in AGE_FACTS:
            return self._age(key, pre + AGE_FACTS[key], node, where, rule)
        if key in NAME_FACTS:
            return self._regex(key, pre, NAME_FACTS[key], node, where, rule)
        if key == "text_matches":
            return self._regex(key, "", ("text",), node, where, rule)
        if key == "name_like":
            return self._like(pre, node, where, rule)
        if key in ("roles", "has_role"):
            return self._roles(key, pre, node, where, rule)
        if key == "in_list":
            return self._in_list(pre, node, where, rule)
        if key == "channel":
            return self._channel(node, where, rule)
        return self._surge(pre, node, where, rule)

    # --- combinators -----------------------------------------------------
    def _combine(self, key: str, node: Node, path: str, rule: str) -> Check:
        if not isinstance(node.value, list) or not node.value:
            self.report(node, path, f"{key!r} takes a non-empty list of conditions")
            return never(rule, path)
        checks = [self.compile(n, f"{path}[{i}]", rule) for i, n in enumerate(node.value)]
        if key == "all":
            return checks[0] if len(checks) == 1 else _all(checks)

        # The condition text is fixed, so it is built once here, not per decision.
        cond = "any of (" + " | ".join(brief(n.plain()) for n in node.value) + ")"

        cache: dict[tuple[int, ...], tuple[list[Miss], Miss]] = {}

        def any_(f: Any, now: datetime) -> Miss | None:
            misses = []
            for c in checks:
                miss = c(f, now)
                if miss is None:
                    return None
                misses.append(miss)
            # Children often return the same (cached) Miss objects; then so can we. The
            # cache holds them alive, so their ids cannot be reused by other objects.
            key = tuple(map(id, misses))
            hit = cache.get(key)
            if hit is not None:
                return hit[1]
            actual = "; ".join([m.actual for m in misses])
            result = Miss(rule, cond, actual, tuple(misses), any(m.unknown for m in misses))
            if len(cache) < CACHE_SIZE:
                cache[key] = (misses, result)
            return result

        return any_

    def _named(self, node: Node, path: str, rule: str) -> Check:
        name = node.value
        if not isinstance(name, str) or name not in self.named:
            hint = did_you_mean(str(name), list(self.named))
            self.report(node, path, f"unknown named condition {shape(name)}{hint}")
            return never(rule, path)
        if name in self._stack:
            chain = " -> ".join([*self._stack, name])
            self.report(node, path, f"named condition refers to itself: {chain}")
            return never(rule, path)
        self._stack.append(name)
        try:
            inner = self.compile(self.named[name], f"conditions.{name}", rule)
        finally:
            self._stack.pop()
        cond = f"is: {name}"

        # Keep the name in the explanation: "'trusted' does not hold: ...".
        cache: dict[int, tuple[Miss, Miss]] = {}  # as in any_: keyed by the inner Miss

        def named(f: Any, now: datetime) -> Miss | None:
            miss = inner(f, now)
            if miss is None:
                return None
            hit = cache.get(id(miss))
            if hit is not None:
                return hit[1]
            result = Miss(rule, cond, miss.actual, (miss,), miss.unknown)
            if len(cache) < CACHE_SIZE:
                cache[id(miss)] = (miss, result)
            return result

        return named

    # --- facts -----------------------------------------------------------
    def _bool(self, key: str, attr: str, node: Node, path: str, rule: str) -> Check:
        want = node.value
        if not isinstance(want, bool):
            self.report(node, path, f"{key} takes true or false, not {shape(want)}")
            return never(rule, path)
        get = attrgetter(attr)
        miss = Miss(rule, f"{key}: {_yes(want)}", _yes(not want))
        if want:  # two closures, so the hot path is one attribute read and a truth test
            return lambda f, now: None if get(f) else miss
        return lambda f, now: miss if get(f) else None

    def _count(self, key: str, get: Callable, node: Node, path: str, rule: str) -> Check:
        ops = self._ops(key, node, path, COUNT_OPS, age=False)
        if not ops:
            return never(rule, path)
        compiled = [(_CMP[op], n, f"{key}.{op}: {n}") for op, n in ops]
        cache: dict[int, Miss | None] = {}  # counts repeat a lot; a Miss per value is enough

        def check(f: Any, now: datetime) -> Miss | None:
            v = get(f)
            try:
                return cache[v]
            except KeyError:
                pass
            result = None
            for cmp, n, cond in compiled:
                if not cmp(v, n):
                    result = Miss(rule, cond, str(v))
                    break
            if len(cache) < CACHE_SIZE:
                cache[v] = result
            return result

        return check

    def _age(self, key: str, attr: str, node: Node, path: str, rule: str) -> Check:
        ops = self._ops(key, node, path, AGE_OPS, age=True)
        if not ops:
            return never(rule, path)
        get = attrgetter(attr)
        compiled = [(_CMP[op], d, f"{key}.{op}: {format_duration(d)}") for op, d in ops]
        unknown = Miss(rule, compiled[0][2], "unknown")

        if len(compiled) == 1:
            cmp1, d1, cond1 = compiled[0]

            def check1(f: Any, now: datetime) -> Miss | None:
                t = get(f)
                if t is None:
                    return unknown
                age = now - t
                return None if cmp1(age, d1) else Miss(rule, cond1, _age_text(age))

            return check1

        def check(f: Any, now: datetime) -> Miss | None:
            t = get(f)
            if t is None:
                return unknown
            age = now - t
            for cmp, d, cond in compiled:
                if not cmp(age, d):
                    return Miss(rule, cond, _age_text(age))
            return None

        return check


def _age_text(age: timedelta) -> str:
    # Coarse and fast: "30d4h", "5h12m", "40s"; ages need no more precision in a Miss.
    if age.days:
        return f"{age.days}d{age.seconds // 3600}h" if age.seconds >= 3600 else f"{age.days}d"
    if age.seconds >= 3600:
        minutes = age.seconds % 3600 // 60
        return f"{age.seconds // 3600}h{minutes}m" if minutes else f"{age.seconds // 3600}h"
    return f"{age.seconds // 60}m" if age.seconds >= 60 else f"{age.seconds}s"


def _all(checks: list[Check]) -> Check:
    if len(checks) == 2:  # the common case, without a loop
        first, second = checks

        def all2(f: Any, now: datetime) -> Miss | None:
            miss = first(f, now)
            return miss if miss is not None else second(f, now)

        return all2

    def all_(f: Any, now: datetime) -> Miss | None:
        for c in checks:
            miss = c(f, now)
            if miss is not None:
                return miss
        return None

    return all_
