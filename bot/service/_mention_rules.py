"""The pure half of mentions: from a mention and the policy to a verdict, a variant, words.

No store and no Discord: what the policy decides, what may never be answered (bots,
webhooks, system messages, the never-reply list, mentions too old), how long to wait,
and which wording a person gets (never the one they got last).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.policy import (
    MemberFacts,
    MentionAction,
    MentionDecision,
    MentionFacts,
    NoReply,
    Policy,
    decide_mention,
    match_words,
    miss_words,
    no_reply_reason,
)
from bot.store import MentionInput, MentionStatus, MentionVerdict, UserInfo

# What the author is, as the store records it (author_kind).
USER, BOT, WEBHOOK, SYSTEM = "user", "bot", "webhook", "system"

_NO_REPLY_WORDS = {
    NoReply.AUTHOR_BOT: "no reply to a bot (two bots answering each other never end)",
    NoReply.NEVER_REPLY: "the author is on the never-reply list",
}
_KIND_WORDS = {WEBHOOK: "no reply to a webhook", SYSTEM: "no reply to a system message"}


def mention_facts(item: MentionInput, author: MemberFacts) -> MentionFacts:
    """What the mention rules test: the author's member facts and the message."""
    if item.author_kind != USER and not author.bot:
        author = replace(author, bot=True)  # webhooks and system messages count as bots
    return MentionFacts(
        author=author,
        text=item.text or "",
        mentions_owner=item.mentions_owner,
        mentions_bot=item.mentions_bot,
        replies_to_owner=item.replies_to_owner,
        text_known=item.text is not None,
        channel_id=item.channel_id,
        channel_name=item.channel_name,
        parent_id=item.parent_id,
        parent_name=item.parent_name,
    )


def stranger_facts(user: UserInfo, roles: frozenset[str]) -> MemberFacts:
    """Facts for an author the store never saw join (a webhook, a member from before)."""
    return MemberFacts(
        id=user.user_id,
        username=user.username,
        global_name=user.global_name,
        nick=user.nick,
        bot=user.bot,
        spammer=user.spammer,
        created_at=user.created_at,
        default_avatar=user.default_avatar,
        roles=roles,
    )


def explain(
    policy: Policy,
    decision: MentionDecision,
    facts: MentionFacts,
    now: datetime,
    *,
    nearest_only: bool = False,
) -> str:
    """Why, in one line: `matched ...; 'x' did not match: ...` (the rule and the action
    are stored beside it). `nearest_only`: only the miss of the rule just before (the
    run log's line; the store keeps every miss)."""
    rule = next((r for r in policy.mentions if r.name == decision.rule), None)
    if rule is None:
        words = "no mention rule matched, so the owner's digest lists it"
    else:
        words = f"matched {match_words(rule, facts, now)}"
    misses = decision.misses[-1:] if nearest_only else decision.misses
    if misses:
        words += "; " + "; ".join(miss_words(m) for m in misses)
    if not facts.text_known:
        words += "; text unknown (no message-content intent)"
    return words


def verdict_for(
    policy: Policy, item: MentionInput, facts: MentionFacts, now: datetime
) -> tuple[MentionVerdict, str]:
    """Decide the mention and say where that leaves it (waiting for a reply, or why not);
    with the short why for the run log."""
    decision = decide_mention(policy, facts, now)
    explanation = explain(policy, decision, facts, now)
    short = explain(policy, decision, facts, now, nearest_only=True)

    def verdict(
        status: MentionStatus, outcome: str | None = None, wait: datetime | None = None
    ) -> MentionVerdict:
        return MentionVerdict(
            decision.rule,
            decision.action.value,
            decision.reply,
            explanation,
            decision.policy_version,
            status,
            outcome,
            wait,
        )

    if decision.action is MentionAction.IGNORE:
        return verdict(MentionStatus.IGNORED), short
    if decision.action is MentionAction.NOTIFY:
        return verdict(MentionStatus.LISTED, "for the owner's digest"), short
    if item.author_kind in _KIND_WORDS:
        return verdict(MentionStatus.SKIPPED, _KIND_WORDS[item.author_kind]), short
    blocked = no_reply_reason(policy, facts)
    if blocked is not None:
        return verdict(MentionStatus.SKIPPED, _NO_REPLY_WORDS[blocked]), short
    if decision.reply is None or decision.reply not in policy.replies:
        return verdict(MentionStatus.SKIPPED, f"reply template {decision.reply!r} not found"), short
    replying = policy.replying
    age = now - item.posted_at
    if age > replying.reply_max_age:
        return verdict(MentionStatus.TOO_OLD, "too old to answer; listed for the owner"), short
    return verdict(
        MentionStatus.WAITING, wait=max(item.posted_at + replying.reply_after, now)
    ), short


def pick_variant(counter: int, variants: int, last: int | None) -> int:
    """The next variant in turn, but never the one this person got last time."""
    chosen = counter % variants
    if variants > 1 and chosen == last:
        chosen = (chosen + 1) % variants
    return chosen


HOUR = timedelta(hours=1)
