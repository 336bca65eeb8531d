"""Storage: SQLite through aiosqlite. All of the project's SQL lives in this package."""

from __future__ import annotations

from bot.store._members import ListedRow, facts_from_row
from bot.store._owner_actions import OwnerActionRow
from bot.store._review_verdicts import PendingReviewRow, VerdictRow
from bot.store._reviews import OWNER_RULE, OwnerDecision, ReviewOutcome
from bot.store.db import StoreError
from bot.store.kinds import (
    FOLLOWER_EVENT_KINDS,
    UNANSWERED_STATUSES,
    EventKind,
    MentionStatus,
    OutboxKind,
    TimerKind,
)
from bot.store.mention_rows import MentionInput, MentionRow, MentionVerdict, ReplyRoom
from bot.store.owner_controls import StatsRow
from bot.store.rows import (
    ActionSpec,
    DecisionInput,
    DecisionRow,
    EventRow,
    JoinInput,
    MemberRow,
    OutboxRow,
    TimerRow,
    TimerSpec,
    UserInfo,
)
from bot.store.store import Store

__all__ = [
    "FOLLOWER_EVENT_KINDS",
    "OWNER_RULE",
    "UNANSWERED_STATUSES",
    "ActionSpec",
    "DecisionInput",
    "DecisionRow",
    "EventKind",
    "EventRow",
    "JoinInput",
    "ListedRow",
    "MemberRow",
    "MentionInput",
    "MentionRow",
    "MentionStatus",
    "MentionVerdict",
    "OutboxKind",
    "OutboxRow",
    "OwnerActionRow",
    "OwnerDecision",
    "PendingReviewRow",
    "ReplyRoom",
    "ReviewOutcome",
    "StatsRow",
    "Store",
    "StoreError",
    "TimerKind",
    "TimerRow",
    "TimerSpec",
    "UserInfo",
    "VerdictRow",
    "facts_from_row",
]
