"""Shared data for the store tests, and store helpers the other suites use too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from bot.policy.decision import Action, Decision, Miss
from bot.policy.facts import MemberFacts
from bot.store import (
    ActionSpec,
    DecisionInput,
    DecisionRow,
    JoinInput,
    MemberRow,
    Store,
    TimerSpec,
    UserInfo,
    facts_from_row,
)
from bot.store.db import from_db
from bot.store.rows import decision_row

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GUILD = 1000
OTHER_GUILD = 2000


def user(
    user_id: int = 1,
    username: str | None = None,
    *,
    nick: str | None = None,
    global_name: str | None = None,
    bot: bool = False,
    created_at: datetime = T0 - timedelta(days=400),
) -> UserInfo:
    return UserInfo(
        user_id=user_id,
        username=username if username is not None else f"user{user_id}",
        global_name=global_name,
        nick=nick,
        bot=bot,
        spammer=False,
        default_avatar=False,
        created_at=created_at,
    )


def decision(
    action: Action = Action.FOLLOW_BACK,
    rule: str = "friends",
    *,
    due: datetime | None = None,
    reply: str | None = None,
) -> Decision:
    return Decision(
        rule=rule,
        action=action,
        misses=(Miss("bots", "bot: true", "false"),),
        due=due,
        reply=reply,
        policy_version="v1",
    )


# --- one path in: tests go through the batch methods production uses ---------------------


async def record_join(
    store: Store, guild_id: int, user: UserInfo, joined_at: datetime, pending: bool, at: datetime
) -> MemberRow:
    """One member joins, through ``record_joins``; its join event is settled as processed,
    so a test sees only the events it records itself."""
    [(event_id, row, _)] = await store.record_joins(
        [JoinInput(guild_id, user, joined_at, pending)], at
    )
    await store.mark_event_processed(event_id, at)
    return row


async def join_event(store: Store, guild_id: int, user: UserInfo, at: datetime) -> int:
    """One member joins at ``at``, through ``record_joins``; returns the undecided event."""
    [(event_id, _, _)] = await store.record_joins([JoinInput(guild_id, user, at)], at)
    return event_id


async def record_decision(
    store: Store,
    guild_id: int,
    user_id: int,
    event_id: int | None,
    made: Decision,
    *,
    observed: bool,
    at: datetime,
    actions: Sequence[ActionSpec] = (),
    timer: TimerSpec | None = None,
) -> int:
    """One decision with what it causes, through ``record_decisions``."""
    item = DecisionInput(guild_id, user_id, event_id, made, observed, actions, timer)
    [decision_id] = await store.record_decisions([item], at)
    return decision_id


async def member_facts(
    store: Store,
    guild_id: int,
    user_id: int,
    *,
    now: datetime,
    observed: bool,
    roles: frozenset[str] = frozenset(),
    surge_window: timedelta = timedelta(minutes=10),
) -> MemberFacts | None:
    """The policy's view of a stored member, as the planner builds it."""
    row = await store.get_member(guild_id, user_id)
    if row is None:
        return None
    recent = await store.recent_join_times(guild_id, now - surge_window, now)
    return facts_from_row(row, observed=observed, roles=roles, recent_joins=recent)


# --- reads only tests make (test-only SQL, kept out of bot/store) ------------------------


async def followed_members(store: Store, guild_id: int) -> set[int]:
    sql = "SELECT user_id FROM members WHERE guild_id = ? AND followed = 1"
    rows = await store.database.run(lambda conn: conn.execute(sql, (guild_id,)).fetchall())
    return {raw[0] for raw in rows}


async def last_join_at(store: Store, guild_id: int) -> datetime | None:
    sql = "SELECT MAX(joined_at) FROM members WHERE guild_id = ?"
    raw = await store.database.run(lambda conn: conn.execute(sql, (guild_id,)).fetchone())
    return None if raw[0] is None else from_db(raw[0])


async def pending_reviews(store: Store, guild_id: int | None = None) -> list[DecisionRow]:
    """Members still present whose latest decision is ``review``, oldest first."""
    selected = ", ".join(f"d.{f.name}" for f in fields(DecisionRow))
    sql = (
        f"SELECT {selected} FROM members AS m JOIN decisions AS d "
        "ON d.id = m.last_decision_id WHERE d.action = 'review' AND m.present = 1"
    )
    params: tuple[int, ...] = ()
    if guild_id is not None:
        sql += " AND m.guild_id = ?"
        params = (guild_id,)
    sql += " ORDER BY d.id"
    rows = await store.database.run(lambda conn: conn.execute(sql, params).fetchall())
    return [decision_row(raw) for raw in rows]
