"""Units of work that span tables, each run inside one transaction by the Store.

They compose the table modules' functions; the SQL stays in each table's module.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.policy.decision import Action
from bot.store import _dm_log, _members, _outbox
from bot.store._decisions import insert_decision
from bot.store._events import insert_event, join_payload, mark_processed
from bot.store._members import MISSED_LEAVE, REJOINED, REPEAT, mark_decided, upsert_join
from bot.store._outbox import cancel_stay, insert_actions
from bot.store._timers import cancel_stay_timers, fire_timer, insert_timer
from bot.store.db import dump_json, to_db
from bot.store.kinds import OutboxKind
from bot.store.rows import ActionSpec, DecisionInput, JoinInput, MemberRow, OutboxRow

# What a timer of an ended stay records (the values of service.events.TimerOutcome).
LEFT = "cancelled: left the server"
EARLIER_STAY = "cancelled: from an earlier stay"


def join(
    conn: sqlite3.Connection, item: JoinInput, now: str, at: datetime
) -> tuple[int, MemberRow, str]:
    """The join event, then the member upserted; an event with nothing (yet) to decide,
    a pending member's or a repeat's, is processed at once. (event id, row, change)."""
    user_id = item.user.user_id
    event_id = insert_event(conn, item.guild_id, user_id, item.kind, join_payload(item), now)
    row, change = upsert_join(conn, item.guild_id, item.user, item.joined_at, item.pending, at)
    if change == MISSED_LEAVE:
        # The leave was never seen: this join ends the earlier stay as the leave would
        # have, dated no later than the new stay began.
        left = to_db(min(at, item.joined_at))
        payload = dump_json({"inferred": True, "stay": row.stay - 1})
        mark_processed(
            conn, insert_event(conn, item.guild_id, user_id, "leave", payload, left), now
        )
    if change in (REJOINED, MISSED_LEAVE):
        end_stay(conn, item.guild_id, user_id, row.stay - 1, now, EARLIER_STAY)
    if item.pending or change == REPEAT:
        mark_processed(conn, event_id, now)
    return event_id, row, change


def end_stay(
    conn: sqlite3.Connection, guild_id: int, user_id: int, stay: int, now: str, outcome: str
) -> None:
    """A stay ended: its timers and the actions not yet sent never act (nor older ones)."""
    cancel_stay(conn, guild_id, user_id, stay, now)
    cancel_stay_timers(conn, guild_id, user_id, stay, now, outcome)


def leave(
    conn: sqlite3.Connection, guild_id: int, user_id: int, at: datetime, churn_window: timedelta
) -> MemberRow | None:
    """The member left: their stay ends (timers and unsent actions cancelled)."""
    row = _members.record_leave(conn, guild_id, user_id, at, churn_window)
    if row is not None:
        end_stay(conn, guild_id, user_id, row.stay, to_db(at), LEFT)
    return row


def finish(conn: sqlite3.Connection, row: OutboxRow, at: datetime, result: str | None) -> bool:
    """sending -> done, and what it did recorded: a DM in the DM log, a role change as the
    member's follow state (only while its stay is current: a role given to a stay that has
    ended says nothing about the next one). False if the row was not in flight."""
    now = to_db(at)
    if not _outbox.complete_action(conn, row.id, now, result):
        return False
    if row.kind == OutboxKind.DM:
        _dm_log.record_dm_sent(conn, row.user_id, row.id, now)
    if row.kind in (OutboxKind.ADD_ROLE, OutboxKind.REMOVE_ROLE) and (
        row.stay is None or _members.stay_is_current(conn, row.guild_id, row.user_id, row.stay)
    ):
        followed = row.kind == OutboxKind.ADD_ROLE
        _members.set_followed(conn, row.guild_id, row.user_id, followed, now, False)
    return True


def decide(conn: sqlite3.Connection, item: DecisionInput, now: str, at: datetime) -> int:
    """The decision, its outbox rows, its timer, the event processed, the member updated."""
    decision_id = insert_decision(conn, item, now)
    if item.actions:
        insert_actions(conn, item.guild_id, item.user_id, item.actions, at, decision_id, item.stay)
    if item.timer is not None:
        due = to_db(item.timer.due)
        insert_timer(
            conn, item.guild_id, item.user_id, item.timer, decision_id, now, due, item.stay
        )
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
        guild_id, user_id, decision_id, stay = fired
        insert_actions(conn, guild_id, user_id, actions, at, decision_id, stay)
    return True
