"""Units of work that span tables, each run inside one transaction by the Store.

They compose the table modules' functions; the SQL stays in each table's module.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bot.policy.decision import Action
from bot.store._decisions import insert_decision
from bot.store._events import insert_event, join_payload, mark_processed
from bot.store._members import REPEAT, mark_decided, upsert_join
from bot.store._outbox import insert_actions
from bot.store._timers import fire_timer, insert_timer
from bot.store.db import to_db
from bot.store.rows import ActionSpec, DecisionInput, JoinInput, MemberRow


def join(
    conn: sqlite3.Connection, item: JoinInput, now: str, at: datetime
) -> tuple[int, MemberRow, str]:
    """The join event, then the member upserted; an event with nothing (yet) to decide,
    a pending member's or a repeat's, is processed at once. (event id, row, change)."""
    user_id = item.user.user_id
    event_id = insert_event(conn, item.guild_id, user_id, item.kind, join_payload(item), now)
    row, change = upsert_join(conn, item.guild_id, item.user, item.joined_at, item.pending, at)
    if item.pending or change == REPEAT:
        mark_processed(conn, event_id, now)
    return event_id, row, change


def decide(conn: sqlite3.Connection, item: DecisionInput, now: str, at: datetime) -> int:
    """The decision, its outbox rows, its timer, the event processed, the member updated."""
    decision_id = insert_decision(conn, item, now)
    if item.actions:
        insert_actions(conn, item.guild_id, item.user_id, item.actions, at, decision_id)
    if item.timer is not None:
        due = to_db(item.timer.due)
        insert_timer(conn, item.guild_id, item.user_id, item.timer, decision_id, now, due)
    if item.event_id is not None:
        mark_processed(conn, item.event_id, now)
    declined = item.decision.action is Action.DECLINE
    mark_decided(conn, item.guild_id, item.user_id, decision_id, declined, now)
    return decision_id


def fire(
    conn: sqlite3.Connection,
    timer_id: int,
    at: datetime,
    outcome: str,
    actions: Sequence[ActionSpec],
) -> bool:
    """Claim and finish a timer, and queue its actions linked to its decision; False
    (nothing queued) if it had already fired or been cancelled."""
    fired = fire_timer(conn, timer_id, to_db(at), outcome)
    if fired is None:
        return False
    if actions:
        guild_id, user_id, decision_id = fired
        insert_actions(conn, guild_id, user_id, actions, at, decision_id)
    return True
