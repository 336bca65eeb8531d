"""Events in words: one function for the demo's transcript and the `followback run` log.

A reader of bot.service.events, so it sits beside the app: service events in,
lines out. The wording is the same wherever the events are read.
"""

from __future__ import annotations

import logging

from bot.policy import Action, format_duration, match_words, miss_words
from bot.service.events import (
    ActionDone,
    ActionRefused,
    BotStarted,
    CatchUpDone,
    DecisionMade,
    DigestSent,
    Event,
    MemberLeft,
    MemberPending,
    MentionDecided,
    OwnerActed,
    PolicyBroken,
    PolicyReloaded,
    ReplySkipped,
    RoleChangedByHand,
    TimerFired,
    TimerOutcome,
)
from bot.service.planning import human_due

log = logging.getLogger("bot.run")

_DONE = {
    "add_role": "gave the follow-back role to",
    "remove_role": "took the follow-back role from",
    "dm": "sent a DM to",
    "reply": "replied to",
}
_OWNER_WORDS = {
    "approve": "approved",
    "decline": "declined",
    "follow": "followed back by hand",
    "unfollow": "unfollowed by hand",
    "list_add": "added to a policy list",
    "list_remove": "removed from a policy list",
    "pause": "paused the bot: nothing is sent, timers wait",
    "resume": "resumed the bot",
}
# Told by the decision line that comes with them: no line of their own.
_QUIET_TIMERS = frozenset({TimerOutcome.DECIDED_AGAIN, TimerOutcome.ALREADY_DECIDED})


def describe(event: Event) -> str | None:
    """One line for an event, or None when it has nothing to add to the other lines."""
    match event:
        case DecisionMade():
            return decision_line(event)
        case OwnerActed(actor_id=actor, action=action, member=member, detail=detail):
            what = _OWNER_WORDS.get(action, action)
            about = f" {member}" if member else ""
            extra = f" ({detail})" if detail else ""
            return f"user {actor} {what}{about}{extra}"
        case ActionDone(kind="digest", text=text):
            return f"sent the {text}"
        case DigestSent(pages=0, local_date=day):
            return (
                f"digest for {day:%a %d %b}: nothing needs the owner; skipped, as the policy says"
            )
        case DigestSent(local_date=day, reason=reason, pages=pages, summary=summary):
            why = {"missed": " (missed while down)", "on_demand": " (asked for)"}.get(reason, "")
            return f"digest for {day:%a %d %b}{why}: {summary}; {pages} page(s)"
        case ActionDone(kind="owner_dm", text=text):
            return f"sent the owner a DM: {(text or '').splitlines()[0]!r}"
        case ActionDone(member=name, kind=kind, text=text):
            what = _DONE.get(kind, f"did {kind} for")
            return f"{what} {name}: {text!r}" if text is not None else f"{what} {name}"
        case ActionRefused(member=name, kind=kind, detail=detail):
            return f"could not {kind.replace('_', ' ')} {name}: {detail} (recorded)"
        case TimerFired(member=name, kind=kind, outcome=outcome):
            if outcome in _QUIET_TIMERS:
                return None
            if outcome in (TimerOutcome.LEFT, TimerOutcome.EARLIER_STAY):
                return f"{kind} for {name} {outcome}"
            return f"late follow-back for {name}: {outcome}"
        case MemberPending(member=name):
            return f"{name} joined; waiting for membership screening"
        case MemberLeft(member=name):
            return f"{name} left the server"
        case RoleChangedByHand(member=name, followed=followed):
            return f"the owner {'followed' if followed else 'unfollowed'} {name} by hand"
        case MentionDecided():
            return mention_line(event)
        case ReplySkipped(member=name, reason=reason):
            return f"no reply to {name}: {reason}"
        case CatchUpDone():
            return (
                f"caught up with guild {event.guild_id}: {event.joins} new, {event.leaves} left, "
                f"{event.screened} passed screening, {event.roles_by_hand} role changes by hand"
                + _catch_up_cost(event)
            )
        case PolicyReloaded(path=path, version=version):
            return f"policy reloaded: {path} (version {version})"
        case PolicyBroken(path=path, version_in_force=version):
            return f"the edit of {path} has problems; version {version} stays in force"
        case BotStarted():
            return None  # start_lines(): several lines, for the run log
    return None


def decision_line(event: DecisionMade) -> str:
    """`name: action by rule 'r', due <owner's time>, DM template; why: ...` on one line."""
    decision = event.decision
    line = f"{event.member}: {decision.action.value} by rule {decision.rule!r}"
    if decision.due is not None:
        line += f", due {human_due(decision.due, event.timezone)}"
    if event.observed:
        line += ", after observing"
    if event.dm is not None:
        line += f", DM {event.dm!r}"
    return f"{line}; why: {why_words(event)}"


def mention_line(event: MentionDecided) -> str:
    """`mention by name in #general: reply 'thank' (rule 'everyone'), in 2m unless the
    owner answers first; why: ...` on one line."""
    what = event.action + (f" {event.template!r}" if event.template else "")
    found = " (found at start)" if event.source == "catch_up" else ""
    line = f"mention by {event.member} in {event.channel}{found}: {what} (rule {event.rule!r})"
    if event.wait_until is not None:
        wait = event.wait_until - event.at
        when = f"in {format_duration(wait)}" if wait.total_seconds() >= 1 else "now"
        line += f", {when} unless the owner answers first"
    elif event.outcome:
        line += f"; {event.outcome}"
    return f"{line}; why: {event.explanation}"


def why_words(event: DecisionMade) -> str:
    """Why the rule matched, then why the rule just before it did not (the nearest miss)."""
    words = matched_words(event)
    if event.decision.misses:
        words += f"; {miss_words(event.decision.misses[-1])}"
    return words


def matched_words(event: DecisionMade) -> str:
    """Why the deciding rule matched, with the member's values (the policy's own words)."""
    rule = event.rule
    if rule is None:
        if event.decision.action is Action.REVIEW:
            return "no rule matched, so a person decides"
        return "matched"
    return f"matched {match_words(rule, event.facts, event.at)}"


def start_lines(event: BotStarted) -> list[str]:
    """What `followback run` says first: the policy, the database, the guilds, the intents."""
    guilds = ", ".join(str(g) for g in event.guild_ids) or "every guild the bot is in"
    return [
        f"policy: {event.policy_path} (version {event.policy_version})",
        f"database: {event.database}",
        f"guilds watched: {guilds}",
        f"intents: {', '.join(event.intents)}",
    ]


class RunLog:
    """The `followback run` log: a subscriber that writes each event as one INFO line."""

    def __init__(self, logger: logging.Logger = log) -> None:
        self._log = logger

    def __call__(self, event: Event) -> None:
        if isinstance(event, BotStarted):
            for line in start_lines(event):
                self._log.info("%s", line)
            return
        said = describe(event)
        if said is not None:
            self._log.info("%s", said)
        else:
            self._log.debug("%s", type(event).__name__)


def _catch_up_cost(event: CatchUpDone) -> str:
    """How long the comparison took and how big the list was (when known)."""
    if event.members is None or event.elapsed_ms is None:
        return ""
    return f" ({event.members} members compared in {event.elapsed_ms} ms)"
