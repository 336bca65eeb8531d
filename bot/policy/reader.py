"""Reading YAML nodes with positions: every problem is reported, none stops the read."""

from __future__ import annotations

from datetime import timedelta

from bot.policy.durations import parse_duration, shape
from bot.policy.problems import PolicyError, Problem
from bot.policy.vocab import did_you_mean
from bot.policy.yamltree import Node


class Reader:
    def __init__(self, text: str, filename: str) -> None:
        self.text, self.filename = text, filename
        self.problems: list[Problem] = []

    def report(self, node: Node, path: str, message: str) -> None:
        self.problems.append(Problem(self.filename, node.line, node.col, path, message))

    def fail(self) -> PolicyError:
        unique = list(dict.fromkeys(self.problems))
        unique.sort(key=lambda p: (p.line, p.column))
        return PolicyError(unique)

    # --- helpers -----------------------------------------------------------
    def mapping(
        self, node: Node, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Node] | None:
        if not isinstance(node.value, dict):
            self.report(node, path, f"expected a mapping, not {_kind(node)}")
            return None
        for key in node.value:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.report(
                    node.keys[key], where, f"unknown key {key!r}{did_you_mean(key, allowed)}"
                )
        for key in required:
            if key not in node.value:
                self.report(node, path, f"missing required key {key!r}")
        return {k: v for k, v in node.value.items() if k in allowed}

    def listing(self, node: Node, path: str) -> list[Node]:
        if not isinstance(node.value, list):
            self.report(node, path, f"expected a list, not {_kind(node)}")
            return []
        return node.value

    def text_value(self, node: Node, path: str, ids: bool = False) -> str | None:
        value = node.value
        if isinstance(value, str) and value.strip():
            return value
        if ids and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        self.report(node, path, f"expected {'a name or id' if ids else 'text'}, not {_kind(node)}")
        return None

    def duration(self, node: Node, path: str) -> timedelta | None:
        try:
            return parse_duration(node.value)
        except ValueError as exc:
            self.report(node, path, str(exc))
            return None

    # --- the file ----------------------------------------------------------


def _kind(node: Node) -> str:
    return shape(node.value)
