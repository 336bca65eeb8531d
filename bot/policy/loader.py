"""Read a policy file, report every problem at once, and compile it."""

from __future__ import annotations

import hashlib
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.policy.conditions import Compiler, did_you_mean
from bot.policy.decision import Action
from bot.policy.durations import parse_duration, shape
from bot.policy.engine import NO_RULE
from bot.policy.matched import Describer
from bot.policy.model import (
    EVERY_DAY,
    WEEKDAYS,
    EmptyDigest,
    Example,
    Limits,
    Outcome,
    Owner,
    Policy,
    ReplyTemplate,
    Rule,
    template_problem,
)
from bot.policy.outcomes import MEMBER_DECISIONS, MENTION_DECISIONS, OutcomeReader
from bot.policy.problems import PolicyError, Problem
from bot.policy.replying import ReplyingReader
from bot.policy.specs import EXAMPLE_NOW, SpecError, member_from_spec, mention_from_spec
from bot.policy.status import StatusReader
from bot.policy.yamltree import Node, parse_tree

OWNER_KEYS = (
    "timezone",
    "digest_at",
    "digest_days",
    "digest_when_empty",
    "cleanup_after",
    "name",
)
TOP_KEYS = (
    "version",
    "owner",
    "follow_back",
    "follower_role",
    "lists",
    "conditions",
    "replies",
    "rules",
    "mentions",
    "replying",
    "status_command",
    "limits",
    "examples",
)


def load_policy(path: str | Path) -> Policy:
    """Load and compile a policy file. Raises PolicyError (and nothing else) on any problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PolicyError(
            [Problem(name, 1, 1, "", f"cannot read the policy file: {reason}")]
        ) from None
    return load_policy_text(text, name)


def load_policy_text(text: str, filename: str = "<policy>") -> Policy:
    """Load and compile policy text. Raises PolicyError (and nothing else) on any problem."""
    try:
        return _Loader(text, filename).load()
    except PolicyError:
        raise
    except RecursionError:
        problem = Problem(filename, 1, 1, "", "the policy is nested too deeply")
        raise PolicyError([problem]) from None
    except Exception as exc:  # a bug of ours must still surface as a PolicyError
        problem = Problem(filename, 1, 1, "", f"internal error reading the policy: {exc!r}"[:300])
        raise PolicyError([problem]) from None


class _Loader(OutcomeReader, ReplyingReader, StatusReader):
    def load(self) -> Policy:
        root, tree_problems = parse_tree(self.text)
        for line, col, message in tree_problems:
            self.problems.append(Problem(self.filename, line, col, "", message))
        if root is None:
            raise self.fail()
        top = self.mapping(root, "", TOP_KEYS, required=("follow_back", "rules"))
        if top is None:
            raise self.fail()
        if "version" in top and (
            top["version"].value != 1 or isinstance(top["version"].value, bool)
        ):
            self.report(top["version"], "version", "only version 1 is known")
        owner = self.owner(top.get("owner"))
        role = self.follow_back(top.get("follow_back"))
        follower_role = None
        if "follower_role" in top and top["follower_role"].value is not None:
            follower_role = self.text_value(top["follower_role"], "follower_role", ids=True)
        lists = self.lists(top.get("lists"))
        named = self.named(top.get("conditions"))
        replies = self.replies(top.get("replies"))
        members = Compiler(self.report, lists, named, mention=False)
        self.describer = Describer(lists, named, mention=False)
        rules = self.rules(top.get("rules"), "rules", members, replies, mention=False)
        mention_compiler = Compiler(self.report, lists, named, mention=True)
        self.describer = Describer(lists, named, mention=True)
        for name in named:  # unused named conditions get checked too (repeats are merged)
            mention_compiler.compile(Node(name, 0, 0), f"conditions.{name}", name)
        mentions = self.rules(
            top.get("mentions"), "mentions", mention_compiler, replies, mention=True
        )
        limits = self.limits(top.get("limits"))
        replying = self.replying(top.get("replying"), lists)
        status_command = self.status_command(top.get("status_command"))
        examples = self.examples(top.get("examples"), rules, mentions)
        if self.problems:
            raise self.fail()
        return Policy(
            version=hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()[:12],
            source=self.filename,
            owner=owner,
            follow_back_role=role or "",
            follower_role=follower_role,
            lists=lists,
            replies=replies,
            rules=tuple(rules),
            mentions=tuple(mentions),
            limits=limits,
            replying=replying,
            status_command=status_command,
            examples=tuple(examples),
            conditions={k: v.plain() for k, v in named.items()},
        )

    def owner(self, node: Node | None) -> Owner:
        if node is None:
            return Owner()
        fields = self.mapping(node, "owner", OWNER_KEYS) or {}
        tz, at = "UTC", time(9, 0)
        if "timezone" in fields:
            value = self.text_value(fields["timezone"], "owner.timezone")
            if value is not None:
                try:
                    ZoneInfo(value)
                    tz = value
                except Exception:
                    self.report(
                        fields["timezone"],
                        "owner.timezone",
                        f"unknown timezone {value!r} (use a name like Europe/Berlin)",
                    )
        if "digest_at" in fields:
            raw = fields["digest_at"].value
            try:
                hour, minute = str(raw).split(":")
                at = time(int(hour), int(minute))
            except (ValueError, TypeError):
                self.report(
                    fields["digest_at"],
                    "owner.digest_at",
                    f'expected a local time like "09:00", not {shape(raw)}',
                )
        name = self.text_value(fields["name"], "owner.name") if "name" in fields else None
        days = self.digest_days(fields["digest_days"]) if "digest_days" in fields else None
        empty = EmptyDigest.SKIP
        if "digest_when_empty" in fields:
            raw = fields["digest_when_empty"].value
            choices = tuple(e.value for e in EmptyDigest)
            if raw in choices:
                empty = EmptyDigest(raw)
            else:
                self.report(
                    fields["digest_when_empty"],
                    "owner.digest_when_empty",
                    f"expected one of {', '.join(choices)}, not {shape(raw)}"
                    + (did_you_mean(raw, choices) if isinstance(raw, str) else ""),
                )
        cleanup = Owner().cleanup_after
        if "cleanup_after" in fields:
            raw = fields["cleanup_after"].value
            try:
                cleanup = parse_duration(str(raw))
            except ValueError as exc:
                self.report(fields["cleanup_after"], "owner.cleanup_after", str(exc))
        return Owner(tz, at, name, days or EVERY_DAY, empty, cleanup)

    def digest_days(self, node: Node) -> frozenset[int] | None:
        """`digest_days: [mon, wed, fri]`: the weekdays that get a digest."""
        days: set[int] = set()
        for i, item in enumerate(self.listing(node, "owner.digest_days")):
            word = item.value if isinstance(item.value, str) else None
            if word in WEEKDAYS:
                days.add(WEEKDAYS.index(word))
            else:
                hint = did_you_mean(word, WEEKDAYS) if word else ""
                self.report(
                    item,
                    f"owner.digest_days[{i}]",
                    f"expected a day of the week ({', '.join(WEEKDAYS)}), not {shape(item.value)}"
                    + hint,
                )
        if isinstance(node.value, list) and not node.value:
            self.report(
                node, "owner.digest_days", "no days: leave digest_days out for a digest every day"
            )
        return frozenset(days) or None

    def follow_back(self, node: Node | None) -> str | None:
        if node is None:
            return None
        fields = self.mapping(node, "follow_back", ("role",), required=("role",))
        if fields and "role" in fields:
            return self.text_value(fields["role"], "follow_back.role", ids=True)
        return None

    def lists(self, node: Node | None) -> dict[str, frozenset[str]]:
        if node is None or node.value is None:
            return {}
        if not isinstance(node.value, dict):
            self.report(node, "lists", "expected a mapping of list names to lists of ids or names")
            return {}
        out = {}
        for name, sub in node.value.items():
            items = [] if sub.value is None else self.listing(sub, f"lists.{name}")
            values = [
                self.text_value(n, f"lists.{name}[{i}]", ids=True) for i, n in enumerate(items)
            ]
            out[name] = frozenset(v for v in values if v is not None)
        return out

    def named(self, node: Node | None) -> dict[str, Node]:
        if node is None or node.value is None:
            return {}
        if not isinstance(node.value, dict):
            self.report(node, "conditions", "expected a mapping of names to conditions")
            return {}
        return dict(node.value)

    def replies(self, node: Node | None) -> dict[str, ReplyTemplate]:
        if node is None or node.value is None:
            return {}
        if not isinstance(node.value, dict):
            self.report(node, "replies", "expected a mapping of template names to texts")
            return {}
        out = {}
        for name, sub in node.value.items():
            path, flags, variants_node = f"replies.{name}", {"dm": False, "silent": False}, sub
            if isinstance(sub.value, dict):
                allowed = ("dm", "silent", "variants")
                fields = self.mapping(sub, path, allowed, required=("variants",)) or {}
                for flag in ("dm", "silent"):
                    if flag not in fields:
                        continue
                    if isinstance(fields[flag].value, bool):
                        flags[flag] = fields[flag].value
                    else:
                        self.report(fields[flag], f"{path}.{flag}", "expected true or false")
                if "variants" not in fields:
                    continue
                variants_node, path = fields["variants"], f"{path}.variants"
            if isinstance(variants_node.value, str):
                variants_node = Node([variants_node], variants_node.line, variants_node.col)
            items = self.listing(variants_node, path)
            if isinstance(variants_node.value, list) and not items:
                self.report(variants_node, path, "a reply needs at least one text")
            texts = []
            for i, n in enumerate(items):
                text = self.text_value(n, f"{path}[{i}]")
                if text is None:
                    continue
                why = template_problem(text)
                if why:
                    self.report(n, f"{path}[{i}]", why)
                texts.append(text)
            if texts:
                out[name] = ReplyTemplate(name, tuple(texts), flags["dm"], flags["silent"])
        return out

    def rules(
        self,
        node: Node | None,
        section: str,
        compiler: Compiler,
        replies: dict[str, ReplyTemplate],
        mention: bool,
    ) -> list[Rule]:
        if node is None or node.value is None:
            return []
        items = self.listing(node, section)
        if section == "rules" and isinstance(node.value, list) and not items:
            self.report(node, section, "needs at least one rule")
        out: list[Rule] = []
        seen: dict[str, int] = {}
        catch_all: Rule | None = None
        for i, rnode in enumerate(items):
            path = f"{section}[{i}]"
            fields = self.mapping(rnode, path, ("name", "when", "then"), required=("name", "then"))
            if fields is None:
                continue
            name = self.text_value(fields["name"], f"{path}.name") if "name" in fields else None
            name = name or f"#{i}"
            if name in seen:
                self.report(
                    fields["name"],
                    f"{path}.name",
                    f"duplicate rule name {name!r} (first at line {seen[name]})",
                )
            seen.setdefault(name, rnode.line)
            if catch_all is not None:
                self.report(
                    rnode,
                    path,
                    f"rule {name!r} can never match: rule {catch_all.name!r}"
                    f" (line {catch_all.line}) above it matches everyone",
                )
            then = (
                self.then(fields["then"], f"{path}.then", replies, mention)
                if "then" in fields
                else None
            )
            when = fields.get("when")
            check = compiler.compile(when, f"{path}.when", name) if when is not None else None
            rule = Rule(
                name,
                then or Outcome(Action.REVIEW),
                when.plain() if when else None,
                rnode.line,
                check,
                self.describer.why(when, name) if when is not None else None,
                rnode.col,
            )
            if when is None and catch_all is None:
                catch_all = rule
            out.append(rule)
        return out

    def limits(self, node: Node | None) -> Limits:
        if node is None or node.value is None:
            return Limits()
        fields = (
            self.mapping(
                node, "limits", ("dms_per_day", "dm_spacing", "dm_cooldown", "reply_cooldown")
            )
            or {}
        )
        values: dict[str, Any] = {}
        if "dms_per_day" in fields:
            n = fields["dms_per_day"].value
            if isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 10_000:
                values["dms_per_day"] = n
            else:
                self.report(
                    fields["dms_per_day"],
                    "limits.dms_per_day",
                    "expected a whole number from 0 to 10000",
                )
        for key in ("dm_spacing", "dm_cooldown", "reply_cooldown"):
            if key in fields:
                d = self.duration(fields[key], f"limits.{key}")
                if d is not None:
                    values[key] = d
        return Limits(**values)

    def examples(self, node: Node | None, rules: list[Rule], mentions: list[Rule]) -> list[Example]:
        if node is None or node.value is None:
            return []
        out = []
        for i, enode in enumerate(self.listing(node, "examples")):
            path = f"examples[{i}]"
            fields = self.mapping(
                enode, path, ("member", "mention", "expect"), required=("expect",)
            )
            if fields is None:
                continue
            kinds = [k for k in ("member", "mention") if k in fields]
            if len(kinds) != 1:
                self.report(enode, path, "an example needs exactly one of 'member' or 'mention'")
                continue
            kind = kinds[0]
            facts = self.example_facts(fields[kind], f"{path}.{kind}", kind)
            if "expect" not in fields:
                continue
            expect = self.expect(
                fields["expect"], f"{path}.expect", rules if kind == "member" else mentions, kind
            )
            if facts is None or expect is None:
                continue
            spec = fields[kind].plain()
            out.append(Example(kind, spec, facts, *expect, line=enode.line, index=i))
        return out

    def example_facts(self, node: Node, path: str, kind: str) -> Any:
        try:
            if kind == "member":
                return member_from_spec(node.plain(), EXAMPLE_NOW)
            return mention_from_spec(node.plain(), EXAMPLE_NOW)
        except SpecError as exc:
            target, where = node, path
            for part in exc.key.split("."):
                if isinstance(target.value, dict) and part in target.value:
                    target, where = target.value[part], f"{where}.{part}"
            self.report(target, where, exc.message)
            return None

    def expect(
        self, node: Node, path: str, rules: list[Rule], kind: str
    ) -> tuple[str | None, str | None, str | None] | None:
        fields = self.mapping(node, path, ("rule", "action", "reply"))
        if fields is None:
            return None
        if not fields:
            self.report(node, path, "say what to expect: {rule: NAME, action: ACTION}")
            return None
        names = [r.name for r in rules] + [NO_RULE]
        actions = MEMBER_DECISIONS if kind == "member" else MENTION_DECISIONS
        got: list[str | None] = []
        for key, choices, what in (("rule", names, "rule"), ("action", actions, "action")):
            value = fields[key].value if key in fields else None
            if key in fields and value not in choices:
                hint = did_you_mean(str(value), choices)
                self.report(fields[key], f"{path}.{key}", f"unknown {what} {shape(value)}{hint}")
                return None
            got.append(value)
        reply = fields["reply"].value if "reply" in fields else None
        return got[0], got[1], None if reply is None else str(reply)
