"""`then:` - what a rule does when it matches, for followers and for mentions."""

from __future__ import annotations

from datetime import timedelta

from bot.policy.decision import Action, MentionAction
from bot.policy.durations import shape
from bot.policy.model import Outcome, ReplyTemplate
from bot.policy.reader import Reader
from bot.policy.vocab import did_you_mean
from bot.policy.yamltree import Node

MEMBER_DECISIONS = ("follow_back", "later", "observe", "review", "decline", "ignore")
MENTION_DECISIONS = ("reply", "notify", "ignore")


class OutcomeReader(Reader):
    def then(
        self, node: Node, path: str, replies: dict[str, ReplyTemplate], mention: bool
    ) -> Outcome | None:
        choices = MENTION_DECISIONS if mention else MEMBER_DECISIONS
        value = node.value
        if isinstance(value, str):
            if mention and value == "thank" and "thank" in replies:
                return Outcome(MentionAction.REPLY, reply="thank")  # shorthand for {reply: thank}
            if mention and value in ("notify", "ignore"):
                return Outcome(MentionAction(value))
            if not mention and value in ("follow_back", "review", "ignore", "decline"):
                return Outcome(Action(value))
            if value in choices:
                form = {
                    "later": "{later: 24h}",
                    "observe": "{observe: 3d}",
                    "reply": "{reply: thank}",
                }[value]
                self.report(node, path, f"{value!r} needs more, e.g. {form}")
                return None
            self.report(node, path, f"unknown decision {value!r}{did_you_mean(value, choices)}")
            return None
        if not isinstance(value, dict) or len(value) != 1:
            self.report(
                node,
                path,
                f"expected a decision ({', '.join(choices)}) or a mapping with one of them",
            )
            return None
        key, sub = next(iter(value.items()))
        where = f"{path}.{key}"
        if key not in choices:
            self.report(
                node.keys[key], path, f"unknown decision {key!r}{did_you_mean(key, choices)}"
            )
            return None
        if mention:
            if key != "reply":
                return (
                    Outcome(MentionAction(key))
                    if sub.value is None
                    else self._bad(sub, where, f"{key} takes no options")
                )
            name = self.template(sub, where, replies)
            return Outcome(MentionAction.REPLY, reply=name) if name else None
        if key in ("follow_back", "review", "ignore"):
            return (
                Outcome(Action(key))
                if sub.value is None
                else self._bad(sub, where, f"{key} takes no options")
            )
        if key == "observe":
            delay = self._delay(sub, where, "{observe: 3d}")
            return Outcome(Action.OBSERVE, delay=delay) if delay else None
        if key == "decline":
            if sub.value is None:
                return Outcome(Action.DECLINE)
            fields = self.mapping(sub, where, ("reply",)) or {}
            name = (
                self.template(fields["reply"], f"{where}.reply", replies)
                if "reply" in fields
                else None
            )
            return Outcome(Action.DECLINE, reply=name)
        return self.later(sub, where, replies)

    def later(self, node: Node, path: str, replies: dict[str, ReplyTemplate]) -> Outcome | None:
        if not isinstance(node.value, dict):
            delay = self._delay(node, path, "{later: 24h} or {later: {between: [12h, 48h]}}")
            return Outcome(Action.LATER, delay=delay) if delay else None
        fields = self.mapping(node, path, ("after", "between", "notify")) or {}
        notify = (
            self.template(fields["notify"], f"{path}.notify", replies)
            if "notify" in fields
            else None
        )
        if ("after" in fields) == ("between" in fields):
            self.report(
                node, path, "later needs exactly one of 'after: 24h' or 'between: [12h, 48h]'"
            )
            return None
        if "after" in fields:
            delay = self.duration(fields["after"], f"{path}.after")
            return Outcome(Action.LATER, delay=delay, notify=notify) if delay else None
        bnode = fields["between"]
        items = self.listing(bnode, f"{path}.between")
        if len(items) != 2:
            if isinstance(bnode.value, list):
                self.report(bnode, f"{path}.between", "expected two durations: [earliest, latest]")
            return None
        low = self.duration(items[0], f"{path}.between[0]")
        high = self.duration(items[1], f"{path}.between[1]")
        if low is None or high is None:
            return None
        if low > high:
            self.report(bnode, f"{path}.between", "the earliest time comes after the latest")
            return None
        return Outcome(Action.LATER, window=(low, high), notify=notify)

    def template(self, node: Node, path: str, replies: dict[str, ReplyTemplate]) -> str | None:
        name = node.value
        if isinstance(name, str) and name in replies:
            return name
        self.report(
            node,
            path,
            f"unknown reply template {shape(name)}{did_you_mean(str(name), list(replies))}",
        )
        return None

    def _delay(self, node: Node, path: str, example: str) -> timedelta | None:
        if isinstance(node.value, dict | list):
            self.report(
                node, path, f"expected a duration like 3d, got {shape(node.value)}; write {example}"
            )
            return None
        return self.duration(node, path)

    def _bad(self, node: Node, path: str, message: str) -> Outcome | None:
        self.report(node, path, message)
        return None
