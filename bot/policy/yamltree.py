"""YAML text -> a small tree of nodes that remember their line and column.

We compose (not construct) with ruamel.yaml so every value keeps its position,
duplicate keys and aliases are ours to judge, and no YAML tag can build objects.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.nodes import Node as RNode

MAX_DEPTH = 60  # far deeper than any policy; stops alias bombs and stack blow-ups
MAX_NODES = 200_000

_T = "tag:yaml.org,2002:"


class TreeError(Exception):
    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


@dataclass(slots=True)
class Node:
    """A YAML value: dict[str, Node], list[Node], str, int, float, bool or None."""

    value: Any
    line: int  # 1-based
    col: int  # 1-based
    keys: dict[str, Node] = field(default_factory=dict)  # mapping key -> key node
    problems: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if isinstance(self.value, dict):
            return "mapping"
        if isinstance(self.value, list):
            return "list"
        return "scalar"

    def plain(self) -> Any:
        """The value as plain Python data (for example members, JSON Schema checks)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def _scalar(node: ScalarNode) -> Any:
    tag = str(node.tag)
    text = node.value
    if node.style is not None or tag == _T + "str":
        return text  # quoted or plainly a string
    if tag == _T + "null":
        return None
    if tag == _T + "bool":
        return text.lower() == "true"
    if tag == _T + "int":
        clean = text.replace("_", "")
        if len(clean) > 40:
            raise ValueError("number too long")
        base = 10
        if clean.lower().startswith(("0x", "-0x", "+0x")):
            base = 16
        elif clean.lower().startswith(("0o", "-0o", "+0o")):
            base = 8
        return int(clean, base)
    if tag == _T + "float":
        if len(text) > 60:
            raise ValueError("number too long")
        return float(text.replace("_", ""))
    return text


class _Builder:
    def __init__(self, problems: list[tuple[int, int, str]]) -> None:
        self.problems = problems
        self.count = 0

    def build(self, rnode: RNode, depth: int, stack: tuple[int, ...]) -> Node:
        self.count += 1
        mark = rnode.start_mark
        line, col = mark.line + 1, mark.column + 1
        if depth > MAX_DEPTH or self.count > MAX_NODES:
            raise TreeError(line, col, "the document is nested too deeply or is too large")
        if id(rnode) in stack:
            raise TreeError(line, col, "an alias refers to itself")
        tag = str(rnode.tag)
        if isinstance(rnode, ScalarNode):
            if tag.startswith("!") or (tag.startswith(_T) and tag[len(_T) :] not in _PLAIN):
                self.problems.append((line, col, f"unsupported YAML tag {tag!r}"))
                return Node(str(rnode.value), line, col)
            try:
                return Node(_scalar(rnode), line, col)
            except ValueError as exc:
                self.problems.append((line, col, f"bad number {rnode.value[:20]!r}: {exc}"))
                return Node(None, line, col)
        inner = (*stack, id(rnode))
        if isinstance(rnode, SequenceNode):
            return Node([self.build(v, depth + 1, inner) for v in rnode.value], line, col)
        if isinstance(rnode, MappingNode):
            out: dict[str, Node] = {}
            keys: dict[str, Node] = {}
            for knode, vnode in rnode.value:
                kline, kcol = knode.start_mark.line + 1, knode.start_mark.column + 1
                if not isinstance(knode, ScalarNode):
                    self.problems.append((kline, kcol, "a key must be plain text"))
                    continue
                key = str(knode.value)
                if key in out:
                    first = keys[key].line
                    self.problems.append(
                        (kline, kcol, f"duplicate key {key!r} (first at line {first})")
                    )
                    continue
                keys[key] = Node(key, kline, kcol)
                out[key] = self.build(vnode, depth + 1, inner)
            return Node(out, line, col, keys)
        raise TreeError(line, col, "unsupported YAML node")


_PLAIN = {"str", "int", "float", "bool", "null"}


def _warning_problem(message: str) -> tuple[int, int, str]:
    # "found duplicate anchor 'a' / first occurrence ... line 1 ... / second ... line 2, column 4"
    marks = re.findall(r"line (\d+), column (\d+)", message)
    line, col = (int(marks[-1][0]), int(marks[-1][1])) if marks else (1, 1)
    first = f" (first at line {marks[0][0]})" if len(marks) > 1 else ""
    headline = next((x for x in message.splitlines() if x.strip()), "YAML warning").strip()
    return line, col, f"{headline}{first}"


def parse_tree(text: str) -> tuple[Node | None, list[tuple[int, int, str]]]:
    """Parse YAML text. Returns the root (None if unusable) and (line, col, message) problems."""
    problems: list[tuple[int, int, str]] = []
    yaml = YAML(typ="rt")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # ruamel warns (reused anchors); we report
            root = yaml.compose(text)
        problems.extend(_warning_problem(str(w.message)) for w in caught)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        return None, [(line, col, f"YAML syntax error: {what}")]
    except RecursionError:
        return None, [(1, 1, "the document is nested too deeply")]
    except Exception as exc:  # ruamel raises assorted errors on hostile input
        return None, [(1, 1, f"cannot read YAML: {type(exc).__name__}: {exc}"[:300])]
    if root is None:
        return None, [*problems, (1, 1, "the file is empty")]
    try:
        return _Builder(problems).build(root, 0, ()), problems
    except TreeError as exc:
        return None, [*problems, (exc.line, exc.column, exc.message)]
    except RecursionError:
        return None, [(1, 1, "the document is nested too deeply")]
