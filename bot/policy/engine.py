"""decide() and decide_mention(): pure functions of (policy, facts, now)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.policy.decision import Action, Decision, MentionAction, MentionDecision, Miss
from bot.policy.facts import MemberFacts, MentionFacts
from bot.policy.model import Outcome, Policy, Rule
from bot.policy.words import miss_words

__all__ = ["NO_RULE", "decide", "decide_mention", "miss_words", "window_fraction"]

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
