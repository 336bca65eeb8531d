"""What changed between two loaded policies, as data (the words are in words.py).

diff_policies(old, new) -> PolicyChanges; describe_changes() in words.py turns it into
the lines of the owner's "policy reloaded" message.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from bot.policy.model import Policy, Rule


@dataclass(frozen=True, slots=True)
class RuleChanges:
    """Rules matched by name: added, removed, changed (condition or decision), reordered."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    reordered: bool = False  # the rules in both files come in a different order

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.reordered)


@dataclass(frozen=True, slots=True)
class ListChange:
    name: str
    added: tuple[str, ...] = ()  # entries
    removed: tuple[str, ...] = ()
    created: bool = False  # the whole list is new
    deleted: bool = False  # the whole list is gone


@dataclass(frozen=True, slots=True)
class SettingChange:
    section: str  # "owner", "limits", "replying", "follow_back", "follower_role"
    key: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class PolicyChanges:
    old_version: str
    new_version: str
    rules: RuleChanges = RuleChanges()
    mentions: RuleChanges = RuleChanges()
    lists: tuple[ListChange, ...] = ()
    replies_added: tuple[str, ...] = ()
    replies_removed: tuple[str, ...] = ()
    replies_changed: tuple[str, ...] = ()  # wording, variants, dm or silent
    settings: tuple[SettingChange, ...] = ()
    conditions_changed: tuple[str, ...] = ()  # named conditions added, removed or edited

    @property
    def empty(self) -> bool:
        """Nothing that changes behaviour (comments or layout only)."""
        return not (
            self.rules
            or self.mentions
            or self.lists
            or self.replies_added
            or self.replies_removed
            or self.replies_changed
            or self.settings
            or self.conditions_changed
        )


def diff_policies(old: Policy, new: Policy) -> PolicyChanges:
    """Compare two policies by rule, list, template and setting names."""
    return PolicyChanges(
        old_version=old.version,
        new_version=new.version,
        rules=_rules(old.rules, new.rules),
        mentions=_rules(old.mentions, new.mentions),
        lists=_lists(old.lists, new.lists),
        replies_added=tuple(k for k in new.replies if k not in old.replies),
        replies_removed=tuple(k for k in old.replies if k not in new.replies),
        replies_changed=tuple(
            k for k in new.replies if k in old.replies and new.replies[k] != old.replies[k]
        ),
        settings=_settings(old, new),
        conditions_changed=tuple(
            sorted(
                k
                for k in set(old.conditions) | set(new.conditions)
                if old.conditions.get(k) != new.conditions.get(k)
            )
        ),
    )


def _rules(old: tuple[Rule, ...], new: tuple[Rule, ...]) -> RuleChanges:
    before = {r.name: r for r in old}
    after = {r.name: r for r in new}
    kept_old = [r.name for r in old if r.name in after]
    kept_new = [r.name for r in new if r.name in before]
    return RuleChanges(
        added=tuple(n for n in after if n not in before),
        removed=tuple(n for n in before if n not in after),
        changed=tuple(
            n
            for n in kept_new
            if before[n].when != after[n].when or before[n].then != after[n].then
        ),
        reordered=kept_old != kept_new,
    )


def _lists(
    old: dict[str, frozenset[str]], new: dict[str, frozenset[str]]
) -> tuple[ListChange, ...]:
    out = []
    for name in sorted(set(old) | set(new)):
        was, now = old.get(name), new.get(name)
        if was == now:
            continue
        out.append(
            ListChange(
                name,
                added=tuple(sorted((now or frozenset()) - (was or frozenset()))),
                removed=tuple(sorted((was or frozenset()) - (now or frozenset()))),
                created=was is None,
                deleted=now is None,
            )
        )
    return tuple(out)


def _settings(old: Policy, new: Policy) -> tuple[SettingChange, ...]:
    out = []
    for section in ("owner", "limits", "replying"):
        a, b = getattr(old, section), getattr(new, section)
        for f in fields(a):
            va, vb = getattr(a, f.name), getattr(b, f.name)
            if va != vb:
                out.append(SettingChange(section, f.name, va, vb))
    if old.follow_back_role != new.follow_back_role:
        out.append(SettingChange("follow_back", "role", old.follow_back_role, new.follow_back_role))
    if old.follower_role != new.follower_role:
        out.append(SettingChange("follower_role", "", old.follower_role, new.follower_role))
    return tuple(out)
