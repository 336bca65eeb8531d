"""decide() and decide_mention(): pure functions of (policy, facts, now)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.policy.decision import Action, Decision, MentionAction, MentionDecision, Miss
from bot.policy.facts import MemberFacts, MentionFacts
from bot.policy.model import Outcome, Policy, Rule

# When no rule matches (a policy without a catch-all), a person decides: review.
NO_RULE = "(no rule matched)"


def window_fraction(member_id: int, policy_version: str, rule: str) -> float:
    """A stable number in [0, 1) for a random window: same member, policy, rule -> same."""
    seed = f"{member_id}:{policy_version}:{rule}".encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") / 2**64


def _outcome(
    rule: Rule,
    then: Outcome,
    member: MemberFacts,
    now: datetime,
    misses: tuple[Miss, ...],
    version: str,
) -> Decision:
    due = None
    if then.window is not None:
        low, high = then.window
        due = now + low + (high - low) * window_fraction(member.id, version, rule.name)
        due = due.replace(microsecond=0)
    elif then.delay is not None:
        due = now + then.delay
    action = then.action
    assert isinstance(action, Action)
    return Decision(rule.name, action, misses, due, then.reply, then.notify, version)


def decide(policy: Policy, member: MemberFacts, now: datetime) -> Decision:
    """First matching rule wins; each earlier rule leaves a Miss saying why it did not match."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    misses: list[Miss] = []
    for rule in policy.rules:
        check = rule.check
        if check is not None:
            miss = check(member, now)
            if miss is not None:
                misses.append(miss)
                continue
        return _outcome(rule, rule.then, member, now, tuple(misses), policy.version)
    return Decision(NO_RULE, Action.REVIEW, tuple(misses), policy_version=policy.version)


def decide_mention(policy: Policy, mention: MentionFacts, now: datetime) -> MentionDecision:
    """Like decide(), over the mentions rules; none written or none matched -> notify."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    misses: list[Miss] = []
    for rule in policy.mentions:
        check = rule.check
        if check is not None:
            miss = check(mention, now)
            if miss is not None:
                misses.append(miss)
                continue
        action = rule.then.action
        assert isinstance(action, MentionAction)
        return MentionDecision(rule.name, action, tuple(misses), rule.then.reply, policy.version)
    return MentionDecision(NO_RULE, MentionAction.NOTIFY, tuple(misses), None, policy.version)


_OPS = {
    "under": "under",
    "at_least": "at least",
    "at_most": "at most",
    "over": "over",
    "equals": "exactly",
}


def miss_words(miss: Miss) -> str:
    """A Miss in plain words: "rule 'bots' did not match: bot is false (needs true)"."""
    return f"rule {miss.rule!r} did not match: {_words(miss)}"


def _words(miss: Miss) -> str:
    if miss.condition.startswith("is: ") and miss.parts:
        return f"{miss.condition[4:]!r} does not hold: {_words(miss.parts[0])}"
    if miss.parts:
        return "none of these held: " + "; ".join(_words(p) for p in miss.parts)
    if miss.condition.startswith("not "):
        inner = miss.condition[4:]
        inner = repr(inner[4:]) if inner.startswith("is: ") else inner
        return f"{inner} holds (the rule needs it not to)"
    cond, sep, needs = miss.condition.partition(": ")
    if not sep or " " in cond:
        return f"{miss.condition} (was {miss.actual})"
    fact, _, op = cond.partition(".")
    if cond == "in_list":
        return f"not in list {needs!r} (by id or username)"
    if fact.endswith("_matches") or fact == "name_like":
        verb = "match" if fact.endswith("_matches") else "look like"
        subject = fact.removesuffix("_matches") if fact != "name_like" else "name"
        return f"{subject} is {miss.actual} (needs to {verb} {needs})"
    if fact == "surge":
        return f"{miss.actual} (needs {op.removeprefix('joins.').replace('_', ' ')} {needs})"
    if fact in ("has_role", "roles"):
        have = "has no roles" if miss.actual == "no roles" else f"has roles {miss.actual}"
        wants = {"all": "all of", "none": "none of"}.get(op, "one of")
        return f"{have} (needs {wants} {needs.strip('[]')})"
    if op in _OPS:
        needs = f"{_OPS[op]} {needs}"
    return f"{fact} is {miss.actual} (needs {needs})"
