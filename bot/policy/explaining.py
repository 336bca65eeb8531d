"""A member's decision in words: the lines `followback policy explain` prints and the live
bot's /explain shows, from one function, so the two never say different things."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.policy.durations import format_duration
from bot.policy.matched import match_words
from bot.policy.words import miss_words

if TYPE_CHECKING:
    from bot.policy.decision import Decision
    from bot.policy.model import Policy


def template_manner(policy: Policy, name: str) -> str:
    if policy.replies[name].dm:
        return "sent as a DM, within the DM limits"
    return "not sent: the template has no `dm: true`"


def member_explanation(policy: Policy, facts: Any, d: Decision, now: datetime) -> list[str]:
    """Who, the decision, its rule and why it matched, when, what is sent, why not the
    earlier rules, and the policy version."""
    lines = [f"member: {facts.display_name} (id {facts.id})"]
    lines += [f"decision: {d.action.value}", f"rule: {d.rule}"]
    rule = next((r for r in policy.rules if r.name == d.rule), None)
    if rule is not None:  # None: no rule matched, and the misses say why
        lines.append(f"matched: {match_words(rule, facts, now)}")
    if d.due is not None:
        lines.append(f"due: {d.due.isoformat()} (in {format_duration(d.due - now, 2)})")
    for label, name in (("reply", d.reply), ("notify", d.notify)):
        if name:
            lines.append(f"{label}: {name} ({template_manner(policy, name)})")
    if not d.reply and not d.notify:
        lines.append("message: none (nothing is sent to the member)")
    if d.misses:
        lines.append("why not the earlier rules:")
        lines += [f"  - {miss_words(miss)}" for miss in d.misses]
    lines.append(f"policy: {policy.source} (version {d.policy_version})")
    return lines
