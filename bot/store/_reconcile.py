"""The start-up catch-up's units of work that span tables: many missed leaves at once.

(The comparison of the member list with the members table is in ``_members``.)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.store import _outbox
from bot.store._events import insert_event, mark_processed
from bot.store._timers import timers_for
from bot.store._transactions import leave
from bot.store.db import to_db
from bot.store.rows import MemberRow


def record_leaves(
    conn: sqlite3.Connection,
    guild_id: int,
    leaves: Iterable[tuple[int, datetime]],
    at: datetime,
    churn_window: timedelta,
    *,
    tell: bool,
) -> list[tuple[int, MemberRow | None, list[str]]]:
    """Many leaves (user id, when), each as a live leave records it: the leave event, the
    stay ended (its timers and unsent actions cancelled), unsent role additions and DMs of
    no stay cancelled too, the event processed. Run inside the caller's transaction.
    With ``tell``, the kinds of the timers each leave cancels are read first."""
    now = to_db(at)
    done: list[tuple[int, MemberRow | None, list[str]]] = []
    for user_id, left_at in leaves:
        waiting = (
            [str(t.kind) for t in timers_for(conn, guild_id, user_id) if t.status == "scheduled"]
            if tell
            else []
        )
        event_id = insert_event(conn, guild_id, user_id, "leave", "{}", to_db(left_at))
        row = leave(conn, guild_id, user_id, left_at, churn_window)
        _outbox.cancel_actions(conn, guild_id, user_id, now, ("add_role", "dm"))
        mark_processed(conn, event_id, now)
        done.append((user_id, row, waiting))
    return done
