"""The kinds of rows the store keeps, defined once.

StrEnums, like the policy's ``Action``: they compare equal to their text, so callers
that pass or compare plain strings keep working. The tables have no CHECK on kind
(adding a kind needs no table rebuild): the store refuses an unknown kind on insert.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxKind(StrEnum):
    """What an outbox row does when it is sent."""

    ADD_ROLE = "add_role"
    REMOVE_ROLE = "remove_role"
    DM = "dm"
    REPLY = "reply"
    OWNER_DM = "owner_dm"  # a message to the owner: outside the follower DM limits
    DIGEST = "digest"  # the first page of a stored digest, to the owner or the digest channel


class TimerKind(StrEnum):
    """What a timer does when it falls due."""

    LATER = "later"  # a late follow-back
    OBSERVE = "observe"  # decide again at the end of an observe window
    MENTION_WAIT = "mention_wait"  # answer a mention unless the owner did meanwhile
    DIGEST = "digest"  # the next daily digest (exactly one is ever scheduled)


class EventKind(StrEnum):
    """Events the follower service stores before deciding."""

    JOIN = "join"
    SCREENED = "screened"
    CATCH_UP = "catch_up"


# The events that end in a decision (an event left unprocessed is undecided).
FOLLOWER_EVENT_KINDS: tuple[str, ...] = tuple(EventKind)


class MentionStatus(StrEnum):
    """Where a stored mention stands; the value is what the store records."""

    RECEIVED = "received"  # stored, not decided yet (a crash came between)
    IGNORED = "ignored"  # the rules say ignore
    LISTED = "listed"  # the rules say notify: unanswered, for the digest
    WAITING = "waiting"  # a reply waits `reply_after` (a MENTION_WAIT timer)
    SKIPPED = "skipped"  # a reply the rules asked for, not sent (the outcome says why)
    OWNER_ANSWERED = "owner_answered"  # the owner posted, replied or reacted first
    DELETED = "deleted"  # the message was deleted before the reply went
    TOO_OLD = "too_old"  # found at start, older than `reply_max_age`: unanswered
    QUEUED = "queued"  # the reply is in the outbox (its row says sent or refused)


# Mentions the owner has not seen answered: the digest lists them.
UNANSWERED_STATUSES: tuple[str, ...] = (MentionStatus.LISTED, MentionStatus.TOO_OLD)
