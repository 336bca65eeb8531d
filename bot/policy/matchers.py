"""Condition compilers for names, roles, lists and surges (text and set matching)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from bot.policy.decision import Miss
from bot.policy.durations import format_duration, parse_duration, shape
from bot.policy.model import Check
from bot.policy.patterns import Matcher, PatternError, compile_regex, compile_wildcards
from bot.policy.vocab import (
    _CMP,
    CACHE_SIZE,
    COUNT_OPS,
    NAME_FACTS,
    TEXT_UNKNOWN,
    Report,
    brief,
    did_you_mean,
    never,
)
from bot.policy.yamltree import Node

# How a Miss names each name field: the label people read in Discord's profile.
NAME_LABELS = {"nick": "nickname", "global_name": "global name", "username": "username"}
SHOWN_CHARS = 80  # a stranger's 10,000-character name is cut in explanations


def quoted(text: str) -> str:
    return repr(text[:SHOWN_CHARS] + "…" if len(text) > SHOWN_CHARS else text)


def tested_names(attrs: Sequence[str], values: Sequence[str | None]) -> str:
    """The values a name test actually saw: "'bob'", "not set", or each field labelled."""
    if len(attrs) == 1:
        return quoted(values[0]) if values[0] else "not set"
    return ", ".join(
        f"{NAME_LABELS[a]} {quoted(v)}" if v else f"{NAME_LABELS[a]} not set"
        for a, v in zip(attrs, values, strict=True)
    )


def channel_key(text: str) -> str:
    """How a channel is compared: "#General " -> "general"; ids stay digits."""
    return text.strip().lstrip("#").strip().lower()


def channel_in(f: Any, names: frozenset[str]) -> bool:
    """Whether the mention's channel, or the channel its thread is in, is one of `names`."""
    for cid, name in ((f.channel_id, f.channel_name), (f.parent_id, f.parent_name)):
        if (cid and str(cid) in names) or (name and channel_key(name) in names):
            return True
    return False


def channel_shown(f: Any) -> str:
    """The mention's channel for people: "#general", "#help (thread in #support)"."""

    def one(cid: int, name: str) -> str:
        return f"#{name}" if name else (f"channel {cid}" if cid else "")

    here = one(f.channel_id, f.channel_name) or "an unknown channel"
    parent = one(f.parent_id, f.parent_name)
    return f"{here} (thread in {parent})" if parent else here


def _shown(node: Node) -> str:
    # Quoted but not repr(): a regex should read as written, without doubled backslashes.
    return f"'{node.value}'" if isinstance(node.value, str) else brief(node.plain())


class Matchers:
    """Mixed into Compiler: needs `report` and `lists`."""

    report: Report
    lists: dict[str, frozenset[str]]

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
                self.report(sub, f"{path}.{op}", f"expected a whole number, not {shape(sub.value)}")
        return out

    def _sources(self, node: Node, path: str) -> list[tuple[Node, str, str]]:
        """[(node, path, text), ...] for one pattern or a list of them; reports non-text."""
        items: list[Node] = node.value if isinstance(node.value, list) else [node]
        out = []
        for i, n in enumerate(items):
            where = f"{path}[{i}]" if isinstance(node.value, list) else path
            if not isinstance(n.value, str) or not n.value:
                self.report(n, where, "expected a pattern (text)")
                continue
            out.append((n, where, n.value))
        return out

    def _regex(
        self, key: str, pre: str, attrs: Sequence[str], node: Node, path: str, rule: str
    ) -> Check:
        tests = []
        for n, where, source in self._sources(node, path):
            try:
                tests.append(compile_regex(source))
            except PatternError as exc:
                self.report(n, where, f"bad regular expression {source!r}: {exc}")
        if not tests:
            return never(rule, path)
        return self._texts(key, pre, attrs, tests, _shown(node), rule)

    def _like(self, pre: str, node: Node, path: str, rule: str) -> Check:
        good = []
        for n, where, source in self._sources(node, path):  # each alone: errors get a line
            try:
                compile_wildcards([source])
                good.append(source)
            except PatternError as exc:
                self.report(n, where, f"bad wildcard pattern {source!r}: {exc}")
        if not good:
            return never(rule, path)
        # Wildcards carry no inline flags, so they merge into one expression: one scan per name.
        tests = [compile_wildcards(good)]
        attrs = NAME_FACTS["name_matches"]
        return self._texts("name_like", pre, attrs, tests, _shown(node), rule)

    def _texts(
        self,
        key: str,
        pre: str,
        attrs: Sequence[str],
        tests: list[Matcher],
        shown: str,
        rule: str,
    ) -> Check:
        # One C-level call fetches every name; a 1-tuple keeps the loop below uniform.
        many = attrgetter(*(pre + a for a in attrs))
        texts = many if len(attrs) > 1 else (lambda f: (many(f),))
        cond = f"{key}: {shown}"
        is_text = attrs == ("text",)
        unknown = Miss(rule, cond, TEXT_UNKNOWN, unknown=True)

        def check(f: Any, now: datetime) -> Miss | None:
            if is_text and not f.text_known:
                return unknown  # without the intent the text is unknown, not empty
            values = texts(f)
            for s in values:
                if s or (is_text and s is not None):  # a known empty text is still tested
                    for test in tests:
                        if test(s):
                            return None
            if is_text:
                return Miss(rule, cond, quoted(f.text) if f.text else "no text")
            # The fields this test read, and only those: an unset global name is "not set".
            return Miss(rule, cond, tested_names(attrs, values))

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
            return never(rule, path)
        raw = items.value if isinstance(items.value, list) else [items]
        names = []
        for i, n in enumerate(raw):
            if isinstance(n.value, (str, int)) and not isinstance(n.value, bool) and str(n.value):
                names.append(str(n.value))
            else:
                self.report(n, f"{ipath}[{i}]", "expected a role name or id")
        if not names:
            return never(rule, path)
        wanted = frozenset(names)
        get = attrgetter(pre + "roles")
        shown = brief(node.plain()) if key == "has_role" else brief(names)
        cond = f"{key}: {shown}" if key == "has_role" else f"roles.{mode}: {shown}"

        holds: Callable[[frozenset[str]], bool] = {
            "any": lambda have: not wanted.isdisjoint(have),
            "all": wanted.issubset,
            "none": wanted.isdisjoint,
        }[mode]
        cache: dict[frozenset[str], Miss] = {}  # many members hold the same set of roles

        def check(f: Any, now: datetime) -> Miss | None:
            have = get(f)
            if holds(have):
                return None
            miss = cache.get(have)
            if miss is None:
                miss = Miss(rule, cond, ", ".join(sorted(have)) or "no roles")
                if len(cache) < CACHE_SIZE:
                    cache[have] = miss
            return miss

        return check

    def _in_list(self, pre: str, node: Node, path: str, rule: str) -> Check:
        name = node.value
        if not isinstance(name, str) or name not in self.lists:
            self.report(
                node, path, f"unknown list {shape(name)}{did_you_mean(str(name), list(self.lists))}"
            )
            return never(rule, path)
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

    def _channel(self, node: Node, path: str, rule: str) -> Check:
        raw = node.value if isinstance(node.value, list) else [node]
        wanted = set()
        for i, n in enumerate(raw):
            where = f"{path}[{i}]" if isinstance(node.value, list) else path
            value = n.value
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                wanted.add(str(value))
            elif isinstance(value, str) and value.strip().lstrip("#"):
                wanted.add(channel_key(value))
            else:
                self.report(n, where, f"expected a channel name or id, not {shape(value)}")
        if not wanted or (isinstance(node.value, list) and not node.value):
            if isinstance(node.value, list) and not node.value:
                self.report(node, path, "expected at least one channel name or id")
            return never(rule, path)
        cond = f"channel: {brief(sorted(wanted)) if len(wanted) > 1 else next(iter(wanted))}"
        names = frozenset(wanted)

        def check(f: Any, now: datetime) -> Miss | None:
            if channel_in(f, names):
                return None
            return Miss(rule, cond, channel_shown(f))

        return check

    def _surge(self, pre: str, node: Node, path: str, rule: str) -> Check:
        value = node.value
        if not isinstance(value, dict) or set(value) != {"joins", "within"}:
            self.report(node, path, "surge takes {joins: {at_least: N}, within: DURATION}")
            return never(rule, path)
        ops = self._ops("surge.joins", value["joins"], f"{path}.joins", COUNT_OPS, age=False)
        try:
            within: timedelta = parse_duration(value["within"].value)
        except ValueError as exc:
            self.report(value["within"], f"{path}.within", str(exc))
            return never(rule, path)
        if not ops:
            return never(rule, path)
        get = attrgetter(pre + "recent_joins")
        span = format_duration(within)
        compiled = [(_CMP[op], n, f"surge.joins.{op}: {n} within {span}") for op, n in ops]

        def check(f: Any, now: datetime) -> Miss | None:
            joins = get(f)  # sorted: two binary searches, not a scan of a raid's joins
            count = bisect_right(joins, now) - bisect_left(joins, now - within)
            for cmp, n, cond in compiled:
                if not cmp(count, n):
                    return Miss(rule, cond, f"{count} joins")
            return None

        return check
