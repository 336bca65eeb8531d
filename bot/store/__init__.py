"""Storage: SQLite through aiosqlite. All of the project's SQL lives in this package."""

from __future__ import annotations

from bot.store._members import facts_from_row
from bot.store.db import StoreError
from bot.store.kinds import FOLLOWER_EVENT_KINDS, EventKind, OutboxKind, TimerKind
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
    "ActionSpec",
    "DecisionInput",
    "DecisionRow",
    "EventKind",
    "EventRow",
    "JoinInput",
    "MemberRow",
    "OutboxKind",
    "OutboxRow",
    "Store",
    "StoreError",
    "TimerKind",
    "TimerRow",
    "TimerSpec",
    "UserInfo",
    "facts_from_row",
]
