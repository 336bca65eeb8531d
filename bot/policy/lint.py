"""Warnings for a policy that loads but may not do what its author means.

An `observe` rule decides again, after its window, with `observed: true`. If that
second decision can reach an observe rule again, the member is observed forever.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.policy.decision import Action
from bot.policy.engine import decide
from bot.policy.model import Policy, Rule
from bot.policy.specs import EXAMPLE_NOW


@dataclass(frozen=True, slots=True)
class PolicyWarning:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: warning: {self.path}: {self.message}"


def policy_warnings(policy: Policy) -> list[PolicyWarning]:
    return observe_again(policy)


def observe_again(policy: Policy) -> list[PolicyWarning]:
    """Observe rules a member can meet again on the second decision (`observed: true`).

    Static and sound: a rule is safe when its condition requires `observed: false`,
    or when a rule above it takes every observed member. The examples, decided again
    as observed members, name a member it would happen to.
    """
    named = policy.conditions
    out = []
    for index, rule in enumerate(policy.rules):
        if rule.then.action is not Action.OBSERVE or _requires_unobserved(rule.when, named):
            continue
        cover = next(
            (r for r in policy.rules[:index] if r.when is None or _takes_observed(r.when, named)),
            None,
        )
        if cover is not None:
            continue
        message = (
            f"observe rule {rule.name!r} can match a member again on their second decision"
            " (observed: true), so they would be observed again and again; add"
            " `observed: false` to its `when`, or put a rule for `observed: true` above it"
        )
        example = _example_observed_again(policy, rule)
        if example:
            message += f" (e.g. {example})"
        out.append(PolicyWarning(policy.source, rule.line, rule.column, f"rules[{index}]", message))
    return out


def _example_observed_again(policy: Policy, rule: Rule) -> str | None:
    for example in policy.examples:
        if example.kind != "member":
            continue
        again = replace(example.facts, observed=True)
        if decide(policy, again, EXAMPLE_NOW).rule == rule.name:
            return f"{example.label} with observed: true"
    return None


def _requires_unobserved(when: Any, named: dict[str, Any], depth: int = 0) -> bool:
    """Whether the condition can only hold for a member with observed: false."""
    if when is None or depth > 50:
        return False
    if isinstance(when, str):
        return when in named and _requires_unobserved(named[when], named, depth + 1)
    if not isinstance(when, dict):
        return False
    for key, value in when.items():  # a mapping is "all of its keys"
        if key == "observed" and value is False:
            return True
        if key == "not" and _takes_observed(value, named, depth + 1):
            return True
        if key == "is" and _requires_unobserved(value, named, depth + 1):
            return True
        if key == "all" and any(_requires_unobserved(v, named, depth + 1) for v in value):
            return True
        if key == "any" and all(_requires_unobserved(v, named, depth + 1) for v in value):
            return True
    return False


def _takes_observed(when: Any, named: dict[str, Any], depth: int = 0) -> bool:
    """Whether every member with observed: true meets the condition, whatever else."""
    if depth > 50:
        return False
    if isinstance(when, str):
        return when in named and _takes_observed(named[when], named, depth + 1)
    if not isinstance(when, dict) or not when:
        return False
    for key, value in when.items():  # every key must hold for every observed member
        if key == "observed" and value is True:
            continue
        if key == "not" and _requires_unobserved(value, named, depth + 1):
            continue
        if key == "is" and _takes_observed(value, named, depth + 1):
            continue
        if key == "all" and all(_takes_observed(v, named, depth + 1) for v in value):
            continue
        if key == "any" and any(_takes_observed(v, named, depth + 1) for v in value):
            continue
        return False
    return True
