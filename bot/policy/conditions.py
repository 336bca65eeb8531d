"""Compile `when:` conditions into fast predicates, once, at load time.

A compiled check takes (facts, now) and returns None when the condition holds,
else a Miss naming the condition as written and the actual value. Misses for
yes/no facts are built once here, so explanations cost almost nothing.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from bot.policy.decision import Miss
from bot.policy.durations import format_duration, parse_duration
from bot.policy.model import Check
from bot.policy.yamltree import Node

Report = Callable[[Node, str, str], None]

BOOL_FACTS = ("bot", "spammer", "default_avatar", "followed", "observed", "declined_before")
COUNT_FACTS = (
    "messages",
    "links",
    "invites",
    "attachments",
    "everyone_pings",
    "owner_mentions",
    "times_rejoined",
    "churned",
)
AGE_FACTS = {"account_age": "created_at", "in_server": "joined_at"}
NAME_FACTS = {
    "name_matches": ("nick", "global_name", "username"),
    "username_matches": ("username",),
    "nick_matches": ("nick",),
    "global_name_matches": ("global_name",),
}
OTHER_FACTS = ("name_like", "roles", "has_role", "in_list", "surge")
MENTION_FACTS = ("text_matches", "mentions_owner", "mentions_bot", "replies_to_owner")
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


def _yes(value: object) -> str:
    return "true" if value else "false"


def _names(m: Any) -> str:
    return " / ".join([repr(n) for n in (m.nick, m.global_name, m.username) if n]) or "no name"


class Compiler:
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
            return _never(rule, path)
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
            return _never(rule, where)
        pre = "author." if self.mention and key not in MENTION_FACTS else ""
        if key in ("all", "any"):
            return self._combine(key, node, where, rule)
        if key == "not":
            inner = self.compile(node, where, rule)
            miss = Miss(rule, f"not {brief(node.plain())}", "it holds")
            return lambda f, now: miss if inner(f, now) is None else None
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
        return self._surge(pre, node, where, rule)

    # --- combinators -----------------------------------------------------
    def _combine(self, key: str, node: Node, path: str, rule: str) -> Check:
        if not isinstance(node.value, list) or not node.value:
            self.report(node, path, f"{key!r} takes a non-empty list of conditions")
            return _never(rule, path)
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
            result = Miss(rule, cond, "; ".join([m.actual for m in misses]), tuple(misses))
            if len(cache) < CACHE_SIZE:
                cache[key] = (misses, result)
            return result

        return any_

    def _named(self, node: Node, path: str, rule: str) -> Check:
        name = node.value
        if not isinstance(name, str) or name not in self.named:
            hint = did_you_mean(str(name), list(self.named))
            self.report(node, path, f"unknown named condition {name!r}{hint}")
            return _never(rule, path)
        if name in self._stack:
            chain = " -> ".join([*self._stack, name])
            self.report(node, path, f"named condition refers to itself: {chain}")
            return _never(rule, path)
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
            result = Miss(rule, cond, miss.actual, (miss,))
            if len(cache) < CACHE_SIZE:
                cache[id(miss)] = (miss, result)
            return result

        return named

    # --- facts -----------------------------------------------------------
    def _bool(self, key: str, attr: str, node: Node, path: str, rule: str) -> Check:
        want = node.value
        if not isinstance(want, bool):
            self.report(node, path, f"{key} takes true or false, not {brief(want)!r}")
            return _never(rule, path)
        get = attrgetter(attr)
        miss = Miss(rule, f"{key}: {_yes(want)}", _yes(not want))
        return lambda f, now: None if get(f) == want else miss

    def _ops(
        self, key: str, node: Node, path: str, ops: Sequence[str], age: bool
    ) -> list[tuple[str, Any]]:
        """[(op, operand), ...] from {at_least: 3} / 3 / {under: 7d}; reports problems."""
        value = node.value
        if not age and isinstance(value, bool):
            return [("at_least", 1)] if value else [("equals", 0)]  # churned: true
        if not age and isinstance(value, int):
            return [("equals", value)]
        if not isinstance(value, dict) or not value:
            form = "{under: 7d} or {at_least: 30d}" if age else "a number or {at_least: 3}"
            self.report(node, path, f"{key} takes {form}")
            return []
        out: list[tuple[str, Any]] = []
        for op, sub in value.items():
            if op not in ops:
                hint = did_you_mean(op, ops)
                self.report(node.keys[op], f"{path}.{op}", f"unknown comparison {op!r}{hint}")
                continue
            if age:
                try:
                    out.append((op, parse_duration(sub.value)))
                except ValueError as exc:
                    self.report(sub, f"{path}.{op}", str(exc))
            elif isinstance(sub.value, int) and not isinstance(sub.value, bool):
                out.append((op, sub.value))
            else:
                self.report(
                    sub, f"{path}.{op}", f"expected a whole number, not {brief(sub.value)!r}"
                )
        return out

    def _count(self, key: str, get: Callable, node: Node, path: str, rule: str) -> Check:
        ops = self._ops(key, node, path, COUNT_OPS, age=False)
        if not ops:
            return _never(rule, path)
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
            return _never(rule, path)
        get = attrgetter(attr)
        compiled = [(_CMP[op], d, f"{key}.{op}: {format_duration(d)}") for op, d in ops]
        unknown = Miss(rule, compiled[0][2], "unknown")

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

    def _pattern(self, node: Node, path: str, like: bool) -> list[re.Pattern[str]]:
        items = node.value if isinstance(node.value, list) else [node]
        items = [n if isinstance(n, Node) else node for n in items]
        out = []
        for i, n in enumerate(items):
            where = f"{path}[{i}]" if isinstance(node.value, list) else path
            if not isinstance(n.value, str) or not n.value:
                self.report(n, where, "expected a pattern (text)")
                continue
            source = fnmatch.translate(n.value) if like else n.value
            try:
                out.append(re.compile(source, re.IGNORECASE if like else 0))
            except (re.error, OverflowError, RecursionError) as exc:
                self.report(n, where, f"bad regular expression {n.value!r}: {exc}")
        return out

    def _regex(
        self, key: str, pre: str, attrs: Sequence[str], node: Node, path: str, rule: str
    ) -> Check:
        pats = self._pattern(node, path, like=False)
        if not pats:
            return _never(rule, path)
        return self._texts(key, pre, attrs, pats, _shown(node), rule, full=False)

    def _like(self, pre: str, node: Node, path: str, rule: str) -> Check:
        pats = self._pattern(node, path, like=True)
        if not pats:
            return _never(rule, path)
        # Wildcards carry no inline flags, so they merge into one regex: one scan per name.
        pats = [re.compile("|".join(f"(?:{p.pattern})" for p in pats), re.IGNORECASE)]
        attrs = NAME_FACTS["name_matches"]
        return self._texts("name_like", pre, attrs, pats, _shown(node), rule, full=True)

    def _texts(
        self,
        key: str,
        pre: str,
        attrs: Sequence[str],
        pats: list,
        shown: str,
        rule: str,
        full: bool,
    ) -> Check:
        getters = [attrgetter(pre + a) for a in attrs]
        searches = [p.match if full else p.search for p in pats]  # translate() anchors the end
        cond = f"{key}: {shown}"
        subject = attrgetter(pre[:-1]) if pre else (lambda f: f)

        def check(f: Any, now: datetime) -> Miss | None:
            for g in getters:
                s = g(f)
                if s:
                    for search in searches:
                        if search(s):
                            return None
            if attrs == ("text",):
                return Miss(rule, cond, repr(f.text[:80]) if f.text else "no text")
            return Miss(rule, cond, _names(subject(f)))

        return check

    def _roles(self, key: str, pre: str, node: Node, path: str, rule: str) -> Check:
        value = node.value
        if key == "has_role" or isinstance(value, list):
            mode, items, ipath = "any", node, path
        elif (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in ("any", "all", "none")
        ):
            mode = next(iter(value))
            items, ipath = value[mode], f"{path}.{mode}"
        else:
            self.report(node, path, "roles takes {any: [..]}, {all: [..]} or {none: [..]}")
            return _never(rule, path)
        raw = items.value if isinstance(items.value, list) else [items]
        names = []
        for i, n in enumerate(raw):
            if isinstance(n.value, (str, int)) and not isinstance(n.value, bool) and str(n.value):
                names.append(str(n.value))
            else:
                self.report(n, f"{ipath}[{i}]", "expected a role name or id")
        if not names:
            return _never(rule, path)
        wanted = frozenset(names)
        get = attrgetter(pre + "roles")
        shown = brief(node.plain()) if key == "has_role" else brief(names)
        cond = f"{key}: {shown}" if key == "has_role" else f"roles.{mode}: {shown}"

        def check(f: Any, now: datetime) -> Miss | None:
            have = get(f)
            ok = (
                not wanted.isdisjoint(have)
                if mode == "any"
                else wanted <= have
                if mode == "all"
                else wanted.isdisjoint(have)
            )
            return None if ok else Miss(rule, cond, ", ".join(sorted(have)) or "no roles")

        return check

    def _in_list(self, pre: str, node: Node, path: str, rule: str) -> Check:
        name = node.value
        if not isinstance(name, str) or name not in self.lists:
            self.report(
                node, path, f"unknown list {name!r}{did_you_mean(str(name), list(self.lists))}"
            )
            return _never(rule, path)
        members = frozenset(x.lower() for x in self.lists[name])
        get = attrgetter(pre[:-1]) if pre else (lambda f: f)
        cond = f"in_list: {name}"

        miss = Miss(rule, cond, "not listed")

        # Ids and usernames only: global names and nicknames can be copied by anyone.
        def check(f: Any, now: datetime) -> Miss | None:
            m = get(f)
            if str(m.id) in members or m.username.lower() in members:
                return None
            return miss

        return check

    def _surge(self, pre: str, node: Node, path: str, rule: str) -> Check:
        value = node.value
        if not isinstance(value, dict) or set(value) != {"joins", "within"}:
            self.report(node, path, "surge takes {joins: {at_least: N}, within: DURATION}")
            return _never(rule, path)
        ops = self._ops("surge.joins", value["joins"], f"{path}.joins", COUNT_OPS, age=False)
        try:
            within: timedelta = parse_duration(value["within"].value)
        except ValueError as exc:
            self.report(value["within"], f"{path}.within", str(exc))
            return _never(rule, path)
        if not ops:
            return _never(rule, path)
        get = attrgetter(pre + "recent_joins")
        span = format_duration(within)
        compiled = [(_CMP[op], n, f"surge.joins.{op}: {n} within {span}") for op, n in ops]

        def check(f: Any, now: datetime) -> Miss | None:
            since = now - within
            count = sum(1 for t in get(f) if since <= t <= now)
            for cmp, n, cond in compiled:
                if not cmp(count, n):
                    return Miss(rule, cond, f"{count} joins")
            return None

        return check


def _age_text(age: timedelta) -> str:
    # Coarse and fast: "30d4h", "5h12m", "40s"; ages need no more precision in a Miss.
    if age.days:
        return f"{age.days}d{age.seconds // 3600}h" if age.seconds >= 3600 else f"{age.days}d"
    if age.seconds >= 3600:
        return f"{age.seconds // 3600}h{age.seconds % 3600 // 60}m"
    return f"{age.seconds // 60}m" if age.seconds >= 60 else f"{age.seconds}s"


def _shown(node: Node) -> str:
    return repr(node.value) if isinstance(node.value, str) else brief(node.plain())


def _all(checks: list[Check]) -> Check:
    def all_(f: Any, now: datetime) -> Miss | None:
        for c in checks:
            miss = c(f, now)
            if miss is not None:
                return miss
        return None

    return all_


def _never(rule: str, path: str) -> Check:
    # Only used while reporting problems: the policy never loads, so never runs.
    miss = Miss(rule, path, "invalid")
    return lambda f, now: miss
