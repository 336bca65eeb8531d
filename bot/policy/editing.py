"""`/list add|remove|show`: edit one list in the policy file, keeping everything else.

The edit is a splice: ruamel.yaml's round-trip composer gives the list's exact place
in the text, and only that list's text changes. Every other byte (comments, blank
lines, quoting, column-aligned notes) stays as the owner wrote it, which a full
re-dump cannot promise. The result is loaded again before anything is written; the
write goes to a temporary file in the same directory, fsynced, then os.replace()d.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.policy.loader import load_policy_text
from bot.policy.model import Policy
from bot.policy.problems import PolicyError
from bot.policy.vocab import did_you_mean

# Written unquoted when it reads as itself in YAML (Discord usernames do); else quoted.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


class ListEditError(Exception):
    """Why a list edit was refused; nothing was written."""


class PolicyChangedOnDisk(ListEditError):
    def __init__(self) -> None:
        super().__init__("the policy file changed on disk since it was loaded; reload first")


class UnknownList(ListEditError):
    def __init__(self, name: str, known: list[str]) -> None:
        shown = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"the policy has no list {name!r}{did_you_mean(name, known)} (lists: {shown})"
        )
        self.name = name


class NotInList(ListEditError):
    def __init__(self, name: str, entry: str) -> None:
        super().__init__(f"{entry!r} is not in the list {name!r}")


class EditRefused(ListEditError):
    """The edited file would not load (or would not say what was meant)."""


@dataclass(frozen=True, slots=True)
class ListEdit:
    list_name: str
    entry: str
    changed: bool  # False: already there (add) - nothing written
    version: str  # the policy version now on disk
    entries: tuple[str, ...]  # the list afterwards, as the policy reads it


def text_version(text: str) -> str:
    """The policy version of a file's text, as the loader computes it."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def list_entries(policy: Policy, list_name: str) -> list[str]:
    """A list's entries, sorted, for `/list show`; UnknownList with did-you-mean."""
    if list_name not in policy.lists:
        raise UnknownList(list_name, list(policy.lists))
    return sorted(policy.lists[list_name], key=str.lower)


def add_to_list(path: str | Path, list_name: str, entry: str, expected_version: str) -> ListEdit:
    """Append `entry` (an id or a username) to `lists.<list_name>` in the file."""
    return _edit(Path(path), list_name, _clean(entry), expected_version, add=True)


def remove_from_list(
    path: str | Path, list_name: str, entry: str, expected_version: str
) -> ListEdit:
    """Remove `entry` from `lists.<list_name>` in the file; NotInList if it is not there."""
    return _edit(Path(path), list_name, _clean(entry), expected_version, add=False)


def _clean(entry: str | int) -> str:
    text = str(entry).strip()
    if not text:
        raise ListEditError("an entry is a Discord id or a username, not nothing")
    return text


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()  # as in_list compares: ids exactly, usernames in any case


def _read(path: Path) -> tuple[str, str]:
    """(raw text, as the loader reads it): line endings kept in the first for the write."""
    try:
        raw = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ListEditError(f"cannot read the policy file {path}: {exc}") from None
    return raw, raw.replace("\r\n", "\n").replace("\r", "\n")


def _edit(path: Path, list_name: str, entry: str, expected: str, add: bool) -> ListEdit:
    raw, text = _read(path)
    if text_version(text) != expected:
        raise PolicyChangedOnDisk()
    try:
        policy = load_policy_text(text, str(path))
    except PolicyError as exc:
        raise EditRefused(f"the policy file has problems; fix them first:\n{exc}") from None
    before = policy.lists.get(list_name)
    if before is None:
        raise UnknownList(list_name, list(policy.lists))
    present = any(_same(x, entry) for x in before)
    if add and present:
        return ListEdit(
            list_name, entry, False, policy.version, tuple(list_entries(policy, list_name))
        )
    if not add and not present:
        raise NotInList(list_name, entry)
    key, node = _list_node(raw, list_name)
    new_raw = _splice_add(raw, key, node, entry) if add else _splice_remove(raw, key, node, entry)
    new_text = new_raw.replace("\r\n", "\n").replace("\r", "\n")
    try:
        after = load_policy_text(new_text, str(path))
    except PolicyError as exc:
        raise EditRefused(
            f"the edit would make the policy invalid; nothing written:\n{exc}"
        ) from None
    _check_result(policy, after, list_name, entry, add)
    _write_atomically(path, new_raw, expected)
    return ListEdit(list_name, entry, True, after.version, tuple(list_entries(after, list_name)))


def _check_result(before: Policy, after: Policy, name: str, entry: str, add: bool) -> None:
    # The splice must change exactly one entry of one list; anything else is a bug of ours.
    others_same = all(after.lists.get(k) == v for k, v in before.lists.items() if k != name)
    had = {x.lower() for x in before.lists[name]}
    has = {x.lower() for x in after.lists.get(name, frozenset())}
    expected = had | {entry.lower()} if add else had - {entry.lower()}
    if not others_same or has != expected or set(after.lists) != set(before.lists):
        raise EditRefused("the edit did not come out as intended; nothing written")


def _list_node(raw: str, list_name: str) -> tuple[Node, Node]:
    """The key node and the value node of lists.<list_name>."""
    root = YAML(typ="rt").compose(raw)
    lists = _entry(root, "lists")
    found = _entry(lists[1], list_name) if lists is not None else None
    if found is None:  # the loader found it, so the composer must too
        raise EditRefused(f"cannot find lists.{list_name} in the file")
    return found


def _entry(mapping: Node | None, key: str) -> tuple[Node, Node] | None:
    if not isinstance(mapping, MappingNode):
        return None
    for knode, vnode in mapping.value:
        if isinstance(knode, ScalarNode) and knode.value == key:
            return knode, vnode
    return None


def _written(entry: str) -> str:
    if entry.isdigit():
        return entry
    if _PLAIN.fullmatch(entry) and entry.lower() not in _YAML_WORDS:
        return entry
    return json.dumps(entry, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _line_start(raw: str, index: int) -> int:
    return raw.rfind("\n", 0, index) + 1


def _line_end(raw: str, index: int) -> int:
    """The index just past the newline ending the line that holds `index`."""
    end = raw.find("\n", index)
    return len(raw) if end < 0 else end + 1


def _splice_add(raw: str, key: Node, node: Node, entry: str) -> str:
    start, end = node.start_mark.index, node.end_mark.index
    if isinstance(node, ScalarNode):  # `known:` or `known: ~` (an empty list)
        # An empty value's mark sits at the next token, so go by the key's colon.
        colon = raw.find(":", key.end_mark.index)
        written = "[" + _written(entry) + "]"
        if end > start and "\n" not in raw[colon:start]:  # `~` or `null` on the key's line
            return raw[:start] + written + raw[end:]
        return raw[: colon + 1] + " " + written + raw[colon + 1 :]
    if not isinstance(node, SequenceNode):
        raise EditRefused("the list is not a list in the file")
    items = node.value
    if node.flow_style:
        if not items:
            at = raw.index("[", start) + 1
            return raw[:at] + _written(entry) + raw[at:]
        at = items[-1].end_mark.index
        return raw[:at] + ", " + _written(entry) + raw[at:]
    first, last = items[0], items[-1]
    prefix = raw[_line_start(raw, first.start_mark.index) : first.start_mark.index]  # "  - "
    if prefix.strip() != "-":
        raise EditRefused("the list's layout is unusual; edit the file by hand")
    newline = "\r\n" if "\r\n" in raw else "\n"
    at = _line_end(raw, last.end_mark.index)
    lead = "" if raw[:at].endswith("\n") else newline
    return raw[:at] + lead + prefix + _written(entry) + newline + raw[at:]


def _splice_remove(raw: str, key: Node, node: Node, entry: str) -> str:
    if not isinstance(node, SequenceNode):
        raise EditRefused("the list is not a list in the file")
    items = node.value
    index = next(
        (
            i
            for i, n in enumerate(items)
            if isinstance(n, ScalarNode) and _same(str(n.value), entry)
        ),
        None,
    )
    if index is None:
        raise EditRefused("cannot find the entry in the file")
    item = items[index]
    if node.flow_style:
        if index + 1 < len(items):  # "a, " before the next item
            cut = (item.start_mark.index, items[index + 1].start_mark.index)
        elif index > 0:  # ", a" after the previous item
            cut = (items[index - 1].end_mark.index, item.end_mark.index)
        else:  # the only item: "[]"
            cut = (item.start_mark.index, item.end_mark.index)
        return raw[: cut[0]] + raw[cut[1] :]
    line = _line_start(raw, item.start_mark.index)
    removed = raw[:line] + raw[_line_end(raw, item.end_mark.index) :]
    if len(items) == 1:
        # The list stays, empty: `known: []` just past the key's colon (which comes
        # before the removed line, so its index still holds).
        colon = raw.find(":", key.end_mark.index)
        if colon < 0 or colon > line:
            raise EditRefused("the list's layout is unusual; edit the file by hand")
        return removed[: colon + 1] + " []" + removed[colon + 1 :]
    return removed


def _write_atomically(path: Path, raw: str, expected: str) -> None:
    """A temporary file beside the policy, fsynced, then renamed over it: a crash
    leaves the old file or the new one, never half of either."""
    directory = path.resolve().parent
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        # Last look: someone may have saved the file while we were working.
        if text_version(_read(path)[1]) != expected:
            raise PolicyChangedOnDisk()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
